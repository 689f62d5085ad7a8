"""phone_number_quality_update: Meta's messaging limit and quality flag of a number, through the
real intake and processing; a late older word changes nothing; an unknown number is flagged."""

from __future__ import annotations

import pytest

from tests.webhooks.helpers import post
from webhooks.models import WebhookEvent


def quality(waba_id: str, display: str, event: str, time: int, **value) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": time, "changes": [{"field": "phone_number_quality_update", "value": {
            "display_phone_number": display, "event": event, **value,
        }}]}],
    }  # fmt: skip


@pytest.mark.django_db
def test_a_downgrade_and_a_flag_are_kept_and_an_older_upgrade_arriving_late_changes_nothing(client, number):
    digits = number.display_phone_number  # Meta names the number by its display digits
    newer = quality(number.waba_id, digits, "DOWNGRADE", 1790000200, current_limit="TIER_250", old_limit="TIER_2K")
    older = quality(number.waba_id, digits, "UPGRADE", 1790000100, current_limit="TIER_10K", old_limit="TIER_2K")
    assert post(client, newer).status_code == 200
    assert post(client, older).status_code == 200
    number.refresh_from_db()
    assert (number.messaging_limit, number.quality_event) == ("TIER_250", "DOWNGRADE")
    assert int(number.quality_updated_at.timestamp()) == 1790000200
    # The newer field name wins over the old one when both are there.
    flag = quality(number.waba_id, digits, "FLAGGED", 1790000300, current_limit="TIER_250",
                   max_daily_conversations_per_business="TIER_2K")  # fmt: skip
    post(client, flag)
    number.refresh_from_db()
    assert (number.messaging_limit, number.quality_event) == ("TIER_2K", "FLAGGED")
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}


@pytest.mark.django_db
def test_a_number_we_do_not_have_is_flagged_for_an_admin(client, number):
    post(client, quality(number.waba_id, "15550001111", "FLAGGED", 1790000100, current_limit="TIER_250"))
    event = WebhookEvent.objects.get()
    assert event.state == "flagged" and "unknown number 15550001111" in event.reason
