"""Template webhooks carry Meta's time on their entry; a late delivery of an older verdict
never moves the template back (through the real intake and processing)."""

from __future__ import annotations

import json

import pytest

from tests.webhooks.helpers import post
from webhooks.models import WebhookEvent


def status_envelope(waba_id: str, meta_id: str, event: str, time: int) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": time, "changes": [{"field": "message_template_status_update", "value": {
            "event": event, "message_template_id": int(meta_id), "message_template_name": "order_update",
            "message_template_language": "de", "reason": "NONE",
        }}]}],
    }  # fmt: skip


@pytest.mark.django_db
def test_an_older_pause_delivered_after_a_newer_approval_changes_nothing(client, number):
    from templates_app.models import Template, TemplateVersion

    template = Template.objects.create(
        waba_id=number.waba_id, name="order_update", language="de", category="UTILITY", meta_template_id="777001",
        meta_status="PENDING",
    )  # fmt: skip
    version = TemplateVersion.objects.create(
        template=template, number=1, category="UTILITY", state="approved",
        components=[{"type": "BODY", "text": "Hallo, Ihre Bestellung ist unterwegs."}],
    )  # fmt: skip
    template.sending_version = version
    template.save(update_fields=["sending_version"])

    newer = status_envelope(number.waba_id, "777001", "APPROVED", 1790000200)
    older = status_envelope(number.waba_id, "777001", "PAUSED", 1790000100)
    assert post(client, json.dumps(newer).encode()).status_code == 200
    assert post(client, json.dumps(older).encode()).status_code == 200

    template.refresh_from_db()
    assert template.meta_status == "APPROVED"
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}
