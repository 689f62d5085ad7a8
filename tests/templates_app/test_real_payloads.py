"""Meta's template webhooks as libraries publish them, parsed by whatsapp.schemas and applied."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone

from templates_app import services
from templates_app.models import Template
from whatsapp.schemas import iter_changes, parse_webhook

from .conftest import WABA, created

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads"


def replay(name: str, template: Template, *, time_shift: int = 0) -> Template:
    """The fixture pointed at `template` (WABA, id, name, language), then applied with Meta's time."""
    data = json.loads((PAYLOADS / name).read_text())
    entry = data["entry"][0]
    entry["id"] = template.waba_id
    entry["time"] = int(timezone.now().timestamp()) + 60 + time_shift
    value = entry["changes"][0]["value"]
    value.update(
        message_template_id=int(template.meta_template_id),
        message_template_name=template.name,
        message_template_language=template.language.replace("_", "-"),
    )
    envelope = parse_webhook(json.dumps(data).encode())
    change = next(iter_changes(envelope))
    apply = {
        "message_template_status_update": services.template_status_apply,
        "message_template_quality_update": services.template_quality_apply,
        "template_category_update": services.template_category_apply,
    }[change.field]
    apply(change=change, now=timezone.now(), at=datetime.fromtimestamp(entry["time"], tz=UTC))
    return Template.objects.get(pk=template.pk)


@pytest.fixture
def at_meta(admin_user):
    template = created(admin_user)
    version = template.current_version
    version.state = "approved"
    version.save()
    services.template_meta_submitted(version_id=version.pk, answer={"id": "1689556908129832"}, now=timezone.now())
    return Template.objects.get(pk=template.pk)


def test_approved_then_quality_then_category(at_meta):
    template = replay("pywa/template_status_approved.json", at_meta)
    assert template.meta_status == "APPROVED" and template.sending_version is not None
    template = replay("pywa/template_quality_update_green_to_yellow.json", template, time_shift=1)
    assert template.quality == "YELLOW"
    # This library's category update carries only new_category: a completed change.
    template = replay("pywa/template_category_update_marketing.json", template, time_shift=2)
    assert template.category == "MARKETING"


def test_rejections_keep_metas_reason(at_meta):
    template = replay("pywa/template_status_rejected.json", at_meta)
    assert (template.meta_status, template.meta_reason) == ("REJECTED", "INVALID_FORMAT")
    assert template.meta_reason_detail.startswith("Your template has parameters placed next to each other")
    assert template.meta_recommendation.startswith("Separate parameters")
    scam = replay("whatsapp-business-java-api/template_status_rejected_scam.json", template, time_shift=1)
    assert (scam.meta_status, scam.meta_reason) == ("REJECTED", "SCAM")


def test_flagged_with_a_disable_date_in_words(at_meta):
    template = replay("pywa/template_status_approved.json", at_meta)
    flagged = replay("whatsapp-business-java-api/template_status_flagged_disable_info.json", template, time_shift=1)
    assert flagged.meta_status == "FLAGGED"
    event = flagged.events.filter(kind="meta_status").first()
    assert event.detail["disable_info"] == {"disable_date": "January 31, 2021"}
    assert flagged.waba_id == WABA
