"""Pricing by the dated rules and cards, at the moment of sending."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.exceptions import BudgetExceeded
from billing.models import BillingRecord, Budget, MonthlyUsage, Rate, RateCard
from billing.selectors import quote
from tests.billing.conftest import conversation_for, in_window_of, send, utc


def test_a_marketing_template_is_priced_by_market_and_category(number):
    conversation = conversation_for(number)
    message, record = send(conversation, now=utc(2026, 8, 3, 10))
    assert record.message_id == message.pk
    assert (record.category, record.market, record.country) == ("marketing", "Germany", "DE")
    assert (record.unit_price, record.amount, record.currency) == (Decimal("0.1365"), Decimal("0.1365"), "USD")
    assert record.state == "estimated"
    assert record.template_name == "promo"
    assert record.rate_card.is_default_starting_point


def test_a_market_without_its_own_price_uses_the_cards_other_price(number):
    conversation = conversation_for(number, wa_id="819012345678", market="JP")
    _message, record = send(conversation, now=utc(2026, 8, 3, 10), category="UTILITY")
    assert record.market == "Rest of Asia Pacific"
    assert record.unit_price == Decimal("0.0113")
    unknown = conversation_for(number, wa_id="97455123456", market="QA")
    _message, record = send(unknown, now=utc(2026, 8, 3, 10))
    assert record.market == "Rest of Middle East"
    nowhere = conversation_for(number, wa_id="6855123456", market="WS")
    _message, record = send(nowhere, now=utc(2026, 8, 3, 10))
    assert (record.market, record.unit_price) == ("Other", Decimal("0.0604"))


def test_a_card_effective_mid_month_prices_each_message_by_the_card_in_force(number):
    newer = RateCard.objects.create(currency="USD", effective_from=date(2026, 8, 15), title="August")
    Rate.objects.create(card=newer, market="Germany", category="marketing", unit_price=Decimal("0.2000"))
    conversation = conversation_for(number)
    _m1, before = send(conversation, now=utc(2026, 8, 14, 23, 59, 59))
    _m2, after = send(conversation, now=utc(2026, 8, 15, 0, 0, 1))
    assert (before.amount, before.rate_card.effective_from) == (Decimal("0.1365"), date(2025, 7, 1))
    assert (after.amount, after.rate_card_id) == (Decimal("0.2000"), newer.pk)


@pytest.mark.parametrize(
    ("now", "utility_amount", "service_record"),
    [
        (utc(2026, 9, 30, 23, 59, 59), Decimal("0"), False),
        (utc(2026, 10, 1, 0, 0, 1), Decimal("0.0550"), True),
        # The periods are UTC days: 00:00:01 in Berlin on 1 October is still 30 September in UTC.
        (utc(2026, 9, 30, 22, 0, 1).astimezone(ZoneInfo("Europe/Berlin")), Decimal("0"), False),
        (utc(2026, 10, 1, 0, 0, 1).astimezone(ZoneInfo("Europe/Berlin")), Decimal("0.0550"), True),
    ],
)
def test_sends_around_2026_10_01_follow_their_periods_rules(number, now, utility_amount, service_record):
    conversation = conversation_for(number, last_inbound_at=in_window_of(now))
    _message, utility = send(conversation, now=now, category="UTILITY")
    assert utility.amount == utility_amount
    assert utility.category == "utility"
    _message, service = send(conversation, now=now, type="text")
    assert (service is not None) is service_record
    if service is not None:
        # Inside the free tier: recorded at 0 so the tier count and Meta's confirmation work.
        assert (service.category, service.amount, service.unit_price) == ("service", Decimal("0"), Decimal("0.0550"))
        assert "1 of the 1000" in service.free_reason


def test_outside_the_window_utility_is_charged_in_both_periods(number):
    conversation = conversation_for(number)
    _m, old = send(conversation, now=utc(2026, 9, 30, 12), category="UTILITY")
    _m, new = send(conversation, now=utc(2026, 10, 1, 12), category="UTILITY")
    assert old.amount == new.amount == Decimal("0.0550")


def test_the_1001st_service_message_of_a_month_is_the_first_charged(number, other_number):
    conversation = conversation_for(number, last_inbound_at=utc(2026, 11, 2, 8))
    start = utc(2026, 11, 2, 9)
    records = [send(conversation, now=start + timedelta(seconds=i), type="text")[1] for i in range(1001)]
    assert [r.amount for r in records[:1000]] == [Decimal("0")] * 1000
    assert records[1000].amount == Decimal("0.0550")
    assert records[999].free_reason.startswith("Free: service message 1000 of the 1000")
    assert MonthlyUsage.objects.get(number=number).service_count == 1001
    # The tier is per number and month: another number, and the next month, start again.
    other = conversation_for(other_number, last_inbound_at=utc(2026, 11, 2, 8))
    assert send(other, now=start, type="text")[1].amount == Decimal("0")
    december = conversation_for(number, last_inbound_at=utc(2026, 12, 1, 8))
    assert send(december, now=utc(2026, 12, 1, 9), type="text")[1].amount == Decimal("0")


def test_the_free_tier_size_comes_from_the_setting(number, settings):
    settings.BILLING_SERVICE_FREE_TIER = 2
    conversation = conversation_for(number, last_inbound_at=utc(2026, 11, 2, 8))
    amounts = [send(conversation, now=utc(2026, 11, 2, 9, i), type="text")[1].amount for i in range(3)]
    assert amounts == [Decimal("0"), Decimal("0"), Decimal("0.0550")]


def test_reactions_and_inbound_messages_get_no_record(number):
    conversation = conversation_for(number, last_inbound_at=utc(2026, 11, 2, 8))
    assert send(conversation, now=utc(2026, 11, 2, 9), type="reaction")[1] is None
    assert BillingRecord.objects.count() == 0


def test_a_hard_stop_budget_refuses_the_send_that_would_overshoot(number):
    Budget.objects.create(number=number, month=date(2026, 8, 1), amount=Decimal("0.30"), hard_stop=True)
    conversation = conversation_for(number)
    send(conversation, now=utc(2026, 8, 3, 10))
    send(conversation, now=utc(2026, 8, 3, 11))
    with pytest.raises(BudgetExceeded) as caught:
        send(conversation, now=utc(2026, 8, 3, 12))
    assert (caught.value.remaining, caught.value.currency) == (Decimal("0.0270"), "USD")
    assert "0.027" in caught.value.message
    assert BillingRecord.objects.count() == 2
    # A budget without a hard stop only warns (the page shows it).
    Budget.objects.filter(number=number).update(hard_stop=False)
    send(conversation, now=utc(2026, 8, 3, 12))
    assert BillingRecord.objects.count() == 3


def test_quote_says_what_a_send_would_cost_and_why(number):
    conversation = conversation_for(number, last_inbound_at=utc(2026, 11, 2, 8))
    contact = conversation.contact
    q = quote(number=number, contact=contact, kind="template", template_category="MARKETING", at=utc(2026, 11, 2, 9))
    assert (q.category, q.market, q.amount, q.currency, q.free) == (
        "marketing",
        "Germany",
        Decimal("0.1365"),
        "USD",
        False,
    )
    assert "0.1365 USD" in q.reason
    q = quote(number=number, contact=contact, kind="service", at=utc(2026, 11, 2, 9), conversation=conversation)
    assert (q.category, q.amount, q.free) == ("service", Decimal("0"), True)
    q = quote(
        number=number,
        contact=contact,
        kind="template",
        template_category="utility",
        at=utc(2026, 9, 2, 9),
        in_window=True,
    )
    assert q.free and "inside the customer service window" in q.reason
    q = quote(
        number=number,
        contact=contact,
        kind="template",
        template_category="authentication-international",
        at=utc(2026, 11, 2, 9),
    )
    assert (q.category, q.amount) == ("authentication_international", Decimal("0.0550"))


def test_one_record_per_message_is_enforced_by_the_database(number):
    from django.db import IntegrityError, transaction

    conversation = conversation_for(number)
    message, record = send(conversation, now=utc(2026, 8, 3, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingRecord.objects.create(
            message=message,
            number=number,
            market="Germany",
            category="marketing",
            unit_price=1,
            amount=1,
            currency="USD",
            sent_at=record.sent_at,
        )


def test_a_template_without_a_known_category_is_priced_as_marketing_and_flagged(number):
    _message, record = send(conversation_for(number), now=utc(2026, 8, 3, 10), category="")
    assert (record.category, record.amount, record.flagged) == ("marketing", Decimal("0.1365"), True)
    assert "not known" in record.flag["note"]


def test_volume_tiers_price_each_message_by_its_position_in_the_month(number, other_number):
    from billing.models import RateTier

    card = RateCard.objects.get(is_default_starting_point=True)
    RateTier.objects.create(card=card, market="Germany", category="utility", from_volume=3, unit_price=Decimal("0.05"))
    RateTier.objects.create(card=card, market="Germany", category="utility", from_volume=5, unit_price=Decimal("0.04"))
    # The count runs across numbers (Meta counts per business portfolio).
    conversations = [conversation_for(number), conversation_for(other_number, wa_id="4917000000001")]
    amounts = [send(conversations[i % 2], now=utc(2026, 8, 3, 10, i), category="UTILITY")[1].amount for i in range(6)]
    assert amounts == [Decimal("0.0550")] * 2 + [Decimal("0.05")] * 2 + [Decimal("0.04")] * 2
    q = quote(
        number=number,
        contact=conversations[0].contact,
        kind="template",
        template_category="UTILITY",
        at=utc(2026, 8, 3, 11),
    )
    assert q.amount == Decimal("0.04") and "Volume tier from message 5" in q.reason
    # Marketing has no tiers; a new month starts again at the list rate.
    assert send(conversations[0], now=utc(2026, 9, 1, 10), category="UTILITY")[1].amount == Decimal("0.0550")


def test_a_campaign_send_keeps_its_campaign_id(number):
    from django.db import transaction

    from billing.services import billing_record_for_message
    from tests.billing.conftest import outbound

    with transaction.atomic():
        message = outbound(conversation_for(number))
        record = billing_record_for_message(message=message, now=utc(2026, 8, 3, 10), campaign_id=42)
    assert record.campaign_id == 42


def test_inside_a_shared_block_the_same_price_question_is_read_once_and_outside_it_fresh(number):
    """A campaign batch prices every recipient from one read of the rule, card, price and budget;
    a price changed meanwhile is what the next batch (or any send outside a batch) sees."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import rules

    at = utc(2026, 8, 3, 10)
    ask = lambda: rules.price_for(card=rules.card_for(at=at), market="Germany", category="marketing")  # noqa: E731
    with rules.lookups_shared():
        first = ask()
        Rate.objects.filter(card=first.card, market="Germany", category="marketing").update(unit_price=Decimal("0.3"))
        with CaptureQueriesContext(connection) as queries:
            again = ask()
    assert len(queries.captured_queries) == 0
    assert again.unit_price == first.unit_price == Decimal("0.1365")
    assert ask().unit_price == Decimal("0.3")  # outside the block: read again
