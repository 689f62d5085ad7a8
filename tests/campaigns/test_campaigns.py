"""Campaigns: the list from a CSV, the dry run's figures, the state machine and the sender."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import BillingRecord, Budget
from campaigns import selectors, services
from campaigns.models import Campaign, Recipient
from conversations import services as conversations
from conversations.models import Message

CSV = """phone,name,first_name,order_id,button_0
+49 151 23456789,Jana,Jana,1042,1042
+4915123456789,Jana again,Jana,1043,1043
not a number,Nobody,X,1,1
+44 7700 900123,Tom,Tom,1044,1044
+33 6 12 34 56 78,Léa,Léa,1045,1045
"""


def make(number, admin_user, *, template="order_update", csv=CSV, defaults=None):
    return services.campaign_create(
        name="Parcels",
        number=number,
        template=template,
        language="de",
        created_by=admin_user,
        rows=services.rows_from_csv(csv),
        defaults=defaults,
    )


@pytest.mark.django_db
def test_the_csv_becomes_one_recipient_per_valid_distinct_number(number, admin_user, order_update):
    campaign = make(number, admin_user)
    recipients = list(campaign.recipients.order_by("id"))
    assert [r.wa_id for r in recipients] == ["4915123456789", "447700900123", "33612345678"]
    assert recipients[0].parameters == {
        "header": {"order_id": "1042"},
        "body": {"first_name": "Jana"},
        "buttons": [{"index": 0, "parameters": ["1042"]}],
    }
    assert campaign.import_report["invalid_count"] == 1 and campaign.import_report["invalid"][0]["line"] == 4
    assert campaign.import_report["duplicate_count"] == 1 and campaign.import_report["duplicates"][0]["line"] == 3


@pytest.mark.django_db
def test_a_csv_without_phone_column_is_refused(number, admin_user, order_update):
    with pytest.raises(services.CampaignError):
        make(number, admin_user, csv="name,x\nA,1\n")


@pytest.mark.django_db
def test_an_unapproved_template_is_refused(number, admin_user):
    with pytest.raises(services.CampaignError):
        make(number, admin_user, template="nope")


@pytest.mark.django_db
def test_dry_run_lists_opt_outs_limit_and_cost_by_market(number, admin_user, spring_sale, settings):
    from django.utils import timezone

    csv = "phone,name,body_1,body_2\n+4915123456789,Jana,Jana,20 %\n+447700900123,Tom,Tom,20 %\n"
    csv += "+4915199999999,Max,Max,20 %\n"
    campaign = make(number, admin_user, template="spring_sale", csv=csv)
    stopped = Recipient.objects.get(campaign=campaign, wa_id="4915199999999").contact
    conversations.contact_opt_out(contact=stopped, source="keyword", at=timezone.now())
    settings.CAMPAIGN_MESSAGING_LIMIT = 1

    run = selectors.dry_run(campaign)
    assert run.category == "MARKETING"
    assert [r.wa_id for r in run.opted_out] == ["4915199999999"]
    assert run.recipients == 3 and run.beyond_limit == 1 and run.sendable == 1
    markets = {cost.market: cost for cost in run.costs}
    assert set(markets) == {"DE", "GB"} or len(markets) == 2
    assert all(cost.count == 1 and cost.amount == cost.unit_price for cost in run.costs)
    currency = run.costs[0].currency
    assert run.totals[currency] == sum((c.amount for c in run.costs), Decimal("0"))
    assert run.totals[currency] > 0


@pytest.mark.django_db
def test_dry_run_compares_the_cost_with_the_budget(number, admin_user, spring_sale):
    csv = "phone,body_1,body_2\n+4915123456789,Jana,20 %\n"
    campaign = make(number, admin_user, template="spring_sale", csv=csv)
    currency = selectors.dry_run(campaign).costs[0].currency
    Budget.objects.create(number=number, amount=Decimal("0.0001"), currency=currency, hard_stop=True)
    run = selectors.dry_run(campaign)
    assert run.budget_left == Decimal("0.0001") and run.over_budget


@pytest.mark.django_db
def test_start_sends_everyone_once_with_one_billing_record_each(
    number, admin_user, order_update, fake_client, django_capture_on_commit_callbacks
):
    campaign = make(number, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_transition(campaign=campaign, action="start")  # eager Celery: sender runs now
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE
    messages = Message.objects.filter(campaign_recipient__campaign=campaign)
    assert messages.count() == 3
    assert BillingRecord.objects.filter(message__in=messages).count() == 3
    assert sorted(payload["to"] for _pid, payload in fake_client.sent) == [
        "+33612345678",
        "+447700900123",
        "+4915123456789",
    ]
    services.recipients_sync(campaign_id=campaign.pk)
    assert set(campaign.recipients.values_list("state", flat=True)) == {"sent"}
    progress = selectors.progress(campaign)
    assert progress.total == 3 and progress.sent == 3 and progress.pending == 0


@pytest.mark.django_db
def test_opted_out_recipients_are_skipped_with_the_reason(
    number, admin_user, spring_sale, fake_client, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    csv = "phone,body_1,body_2\n+4915123456789,Jana,20 %\n+4915199999999,Max,20 %\n"
    campaign = make(number, admin_user, template="spring_sale", csv=csv)
    stopped = Recipient.objects.get(campaign=campaign, wa_id="4915199999999")
    conversations.contact_opt_out(contact=stopped.contact, source="keyword", at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_transition(campaign=campaign, action="start")
    stopped.refresh_from_db()
    assert stopped.state == Recipient.State.SKIPPED and stopped.reason and stopped.message is None
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
def test_pause_stops_the_sender_and_resume_continues(
    number, admin_user, order_update, fake_client, django_capture_on_commit_callbacks
):
    campaign = make(number, admin_user)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.RUNNING)
    services.campaign_transition(campaign=campaign, action="pause")
    assert services.campaign_send_batch(campaign_id=campaign.pk) == 0
    assert fake_client.sent == []
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_transition(campaign=campaign, action="resume")
    assert len(fake_client.sent) == 3
    with pytest.raises(services.CampaignError):
        services.campaign_transition(campaign=campaign, action="resume")


@pytest.mark.django_db
def test_cancel_skips_the_pending(number, admin_user, order_update, fake_client):
    campaign = make(number, admin_user)
    services.campaign_transition(campaign=campaign, action="cancel")
    assert set(campaign.recipients.values_list("state", flat=True)) == {"skipped"}
    assert fake_client.sent == []


@pytest.mark.django_db
def test_recipients_by_label(number, admin_user, order_update):
    from datetime import UTC, datetime

    from tests.conversations.conftest import receive

    thread = receive(number, at=datetime(2026, 11, 2, 10, tzinfo=UTC), wa_id="4915123456789").conversation
    receive(number, at=datetime(2026, 11, 2, 10, tzinfo=UTC), wa_id="4915100000000")
    conversations.conversation_label_add(conversation=thread, name="vip", by=admin_user)
    rows = services.rows_for_label(number=number, label="vip")
    assert [row.phone for row in rows] == ["+4915123456789"]


@pytest.mark.django_db
def test_a_spent_budget_pauses_the_campaign_and_keeps_the_rest_pending(
    number, admin_user, spring_sale, fake_client, django_capture_on_commit_callbacks
):
    csv = "phone,body_1,body_2\n+4915123456789,Jana,20 %\n+4915199999999,Max,20 %\n"
    campaign = make(number, admin_user, template="spring_sale", csv=csv)
    currency = selectors.dry_run(campaign).costs[0].currency
    Budget.objects.create(number=number, amount=Decimal("0"), currency=currency, hard_stop=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_transition(campaign=campaign, action="start")
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED and campaign.import_report["paused_because"]
    assert set(campaign.recipients.values_list("state", flat=True)) == {"pending"}
    assert fake_client.sent == []


@pytest.mark.django_db
def test_a_batch_costs_a_fixed_number_of_statements_per_recipient(number, admin_user, order_update):
    """Each recipient's thread is locked once and its number and contact are not read again
    (they were read with the batch's claim, in the same transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(csv: str) -> int:
        campaign = make(number, admin_user, csv=csv)
        Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.RUNNING)
        with CaptureQueriesContext(connection) as queries:
            services.campaign_send_batch(campaign_id=campaign.pk)
        return len(queries.captured_queries)

    head = "phone,first_name,order_id,button_0\n"
    one = statements(head + "+4915100000001,Ana,1,1\n")
    three = statements(head + "+4915100000002,Ben,2,2\n+4915100000003,Cem,3,3\n+4915100000004,Dan,4,4\n")
    assert Message.objects.count() == 4  # every recipient was sent to, none skipped
    assert three - one == 2 * PER_RECIPIENT


# For a new customer, with savepoints: their thread created and locked, the template, the
# message, its price and the budget, the billing record, the usage and the thread updated.
# 20 before the thread's number and contact were passed on as read with the claim, 18 before
# the batch read the rule, card, price and budget once for all its recipients.
PER_RECIPIENT = 14


@pytest.mark.django_db
def test_dry_run_counts_against_the_tier_meta_reported(number, admin_user, spring_sale, settings, client):
    csv = "phone,name,body_1,body_2\n+4915123456789,Jana,Jana,20 %\n+447700900123,Tom,Tom,20 %\n"
    campaign = make(number, admin_user, template="spring_sale", csv=csv)
    settings.CAMPAIGN_MESSAGING_LIMIT = 0  # configured: unlimited

    run = selectors.dry_run(campaign)
    assert (run.messaging_limit, run.limit_reported_by_meta, run.beyond_limit) == (0, False, 0)

    number.messaging_limit = "TIER_50"  # as Meta reports it (team page "Ask Meta", quality webhooks)
    number.save()
    campaign.refresh_from_db()
    run = selectors.dry_run(campaign)
    assert (run.messaging_limit, run.limit_reported_by_meta) == (50, True)

    number.messaging_limit = "TIER_UNLIMITED"
    number.save()
    campaign.refresh_from_db()
    assert selectors.dry_run(campaign).messaging_limit == 0

    client.force_login(admin_user)
    assert "the tier Meta last reported for this number" in client.get(f"/campaigns/{campaign.pk}/").content.decode()
