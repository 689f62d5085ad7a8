"""seed_billing: believable, idempotent demo costs."""

from __future__ import annotations

from io import StringIO

from billing.demo import seed_billing
from billing.models import BillingRecord, Budget
from billing.selectors import budgets_for_month, parse_month, summary
from conversations.services_numbers import business_number_add
from tests.billing.conftest import assert_rollup_matches_records, utc


def test_seed_billing_makes_months_of_records_a_card_change_a_flag_and_a_budget_near_warning(db):
    for pid in ("100000000000001", "100000000000002"):
        business_number_add(phone_number_id=pid, display_phone_number=f"+49 30 {pid[-4:]}", waba_id="1", name=pid)
    now = utc(2026, 11, 20, 12)
    out = StringIO()
    seed_billing(stdout=out, now=now)
    count = BillingRecord.objects.count()
    assert count > 300
    months = {r.strftime("%Y-%m") for r in BillingRecord.objects.values_list("sent_at", flat=True)}
    assert months == {"2026-08", "2026-09", "2026-10", "2026-11"}
    assert BillingRecord.objects.filter(rate_card__is_default_starting_point=False).exists()
    assert BillingRecord.objects.filter(rate_card__is_default_starting_point=True).exists()
    assert BillingRecord.objects.filter(flagged=True).count() == 1
    assert {"billable", "free", "void", "estimated"} <= set(BillingRecord.objects.values_list("state", flat=True))
    assert len(summary(month=parse_month("2026-09")).totals[0].by_market) >= 8
    (near, standing) = budgets_for_month(month=parse_month("2026-11"))
    assert 0.6 < near.share < 0.8 and not near.warning
    assert Budget.objects.count() == 2
    from conversations.models import Conversation

    assert not Conversation.objects.filter(last_message_at__isnull=True).exists()
    seed_billing(stdout=out, now=now)
    assert BillingRecord.objects.count() == count
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        assert_rollup_matches_records(parse_month(month))


def test_the_rollup_can_be_rebuilt_from_the_records(db):
    from billing.models import BillingRollup
    from billing.rollup import rollup_rebuild

    for pid in ("100000000000001", "100000000000002"):
        business_number_add(phone_number_id=pid, display_phone_number=f"+49 30 {pid[-4:]}", waba_id="1", name=pid)
    seed_billing(stdout=StringIO(), now=utc(2026, 10, 10, 12))
    before = summary(month=parse_month("2026-09")).totals[0]
    BillingRollup.objects.all().delete()
    rollup_rebuild()
    after = summary(month=parse_month("2026-09")).totals[0]
    assert (after.total, after.count, after.by_market) == (before.total, before.count, before.by_market)
