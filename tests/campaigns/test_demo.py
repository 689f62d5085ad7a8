"""seed_campaigns: one finished campaign with mixed results, one ready to start; idempotent."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from billing.models import BillingRecord
from campaigns import selectors
from campaigns.demo import FINISHED, READY, seed_campaigns
from campaigns.models import Campaign
from conversations.services_numbers import business_number_add
from inbox.services import user_create_or_update
from tests.conversations.test_send_template import ORDER_UPDATE, _template


@pytest.mark.django_db
def test_seed_campaigns(fake_client, django_capture_on_commit_callbacks):
    number = business_number_add(
        phone_number_id="100000000000001", display_phone_number="+49 30 1234567", waba_id="200000000000001"
    )
    user_create_or_update(username="admin", role="admin", password="x-demo-2026-long")
    _template(number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        made = seed_campaigns(stdout=out, now=timezone.now())
    assert len(made) == 2 and fake_client.sent == []  # nothing handed to a Cloud API
    finished, ready = Campaign.objects.get(name=FINISHED), Campaign.objects.get(name=READY)
    assert finished.state == "done" and ready.state == "ready"
    progress = selectors.progress(finished)
    assert (progress.read, progress.delivered, progress.sent, progress.failed) == (3, 3, 1, 2)
    assert finished.import_report["duplicate_count"] == 1 and finished.import_report["invalid_count"] == 1
    assert BillingRecord.objects.filter(message__campaign_recipient__campaign=finished).count() == 9
    assert set(BillingRecord.objects.filter(message__status="failed").values_list("state", flat=True)) == {"void"}
    assert ready.recipients.count() == 6 and selectors.dry_run(ready).costs
    assert seed_campaigns(stdout=out, now=timezone.now()) == []  # again: nothing new


@pytest.mark.django_db
def test_the_finished_campaign_page_gives_metas_reasons_in_the_readers_language(client, fake_client):
    number = business_number_add(
        phone_number_id="100000000000001", display_phone_number="+49 30 1234567", waba_id="200000000000001"
    )
    admin = user_create_or_update(username="admin", role="admin", password="x-demo-2026-long")
    _template(number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named")
    seed_campaigns(stdout=io.StringIO(), now=timezone.now())
    finished = Campaign.objects.get(name=FINISHED)
    client.force_login(admin)
    client.cookies["django_language"] = "de"
    html = client.get(f"/campaigns/{finished.pk}/").content.decode()
    assert "Empfänger" in html and "could not be delivered" not in html
    from django.utils import translation

    from whatsapp.errors import reason_for

    with translation.override("de"):
        german = str(reason_for(131026))
    assert html.count(german) == 2  # the two failed recipients, in German
    assert "a.m.." not in html and "p.m.." not in html
    ready = client.get(f"/campaigns/{Campaign.objects.get(name=READY).pk}/").content.decode()
    assert "(Service-Benachrichtigung, als wären alle außerhalb des Servicefensters)" in ready
