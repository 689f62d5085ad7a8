"""Meta's `pricing` on status webhooks confirms or corrects our estimate, once."""

from __future__ import annotations

from decimal import Decimal

from billing.models import BillingRecord, MonthlyUsage
from billing.selectors import parse_month
from billing.services import billing_status_apply
from tests.billing.conftest import assert_rollup_matches_records, conversation_for, in_window_of, send, utc

REGULAR_MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


def test_a_status_delivered_three_times_and_out_of_order_changes_the_state_once(number):
    message, record = send(conversation_for(number), now=utc(2026, 8, 3, 10))
    states = []
    for status in ("delivered", "sent", "delivered", "read", "delivered"):
        billing_status_apply(
            message_id=message.pk, status=status, pricing=dict(REGULAR_MARKETING), at=utc(2026, 8, 3, 10, 1)
        )
        record.refresh_from_db()
        states.append(record.state)
    assert states == ["billable"] * 5
    assert record.amount == Decimal("0.1365")
    assert record.meta_pricing == REGULAR_MARKETING
    assert not record.flagged
    # A late failed after delivery does not void a delivered message.
    billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=utc(2026, 8, 3, 11))
    record.refresh_from_db()
    assert record.state == "billable"


def test_meta_pricing_is_stored_whole_with_unknown_fields(number):
    message, record = send(conversation_for(number), now=utc(2026, 10, 20, 10))
    pricing = {**REGULAR_MARKETING, "subtype": "paid_exempt", "future": {"x": 1}}
    billing_status_apply(message_id=message.pk, status="sent", pricing=pricing, at=utc(2026, 10, 20, 10, 1))
    record.refresh_from_db()
    assert record.meta_pricing == pricing


def test_failed_before_delivery_is_void(number):
    message, record = send(conversation_for(number), now=utc(2026, 8, 3, 10))
    billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=utc(2026, 8, 3, 10, 1))
    record.refresh_from_db()
    assert (record.state, record.amount) == ("void", Decimal("0"))
    assert MonthlyUsage.objects.get(number=number).spent == Decimal("0")
    # A late `sent` with pricing does not bring it back.
    billing_status_apply(message_id=message.pk, status="sent", pricing=REGULAR_MARKETING, at=utc(2026, 8, 3, 10, 2))
    record.refresh_from_db()
    assert record.state == "void"


def test_meta_free_customer_service_on_a_record_estimated_charged_makes_it_free_and_flags_it(number):
    message, record = send(conversation_for(number), now=utc(2026, 8, 3, 10), category="UTILITY")
    assert record.amount == Decimal("0.0550")
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}
    billing_status_apply(message_id=message.pk, status="sent", pricing=free, at=utc(2026, 8, 3, 10, 1))
    record.refresh_from_db()
    assert (record.state, record.amount) == ("free", Decimal("0"))
    assert record.flagged
    assert record.flag["ours"]["billable"] is True and record.flag["meta"]["billable"] is False
    assert record.flag["meta"]["type"] == "free_customer_service"
    assert "inside the customer service window" in record.free_reason
    assert MonthlyUsage.objects.get(number=number).spent == Decimal("0")


def test_free_customer_service_after_2026_10_01_means_inside_the_free_tier(number):
    conversation = conversation_for(number, last_inbound_at=in_window_of(utc(2026, 10, 5, 10)))
    message, record = send(conversation, now=utc(2026, 10, 5, 10), type="text")
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    billing_status_apply(message_id=message.pk, status="delivered", pricing=free, at=utc(2026, 10, 5, 10, 1))
    record.refresh_from_db()
    assert (record.state, record.flagged) == ("free", False)
    assert "free tier" in record.free_reason


def test_meta_regular_on_a_service_message_we_counted_free_charges_it_and_flags_it(number):
    conversation = conversation_for(number, last_inbound_at=in_window_of(utc(2026, 10, 5, 10)))
    message, record = send(conversation, now=utc(2026, 10, 5, 10), type="text")
    regular = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "service"}
    billing_status_apply(message_id=message.pk, status="sent", pricing=regular, at=utc(2026, 10, 5, 10, 1))
    record.refresh_from_db()
    assert (record.state, record.amount, record.flagged) == ("billable", Decimal("0.0550"), True)


def test_a_category_disagreement_is_flagged_with_both_values(number):
    message, record = send(conversation_for(number), now=utc(2026, 8, 3, 10), category="UTILITY")
    pricing = {**REGULAR_MARKETING, "category": "marketing"}
    billing_status_apply(message_id=message.pk, status="sent", pricing=pricing, at=utc(2026, 8, 3, 10, 1))
    record.refresh_from_db()
    assert record.state == "billable" and record.flagged
    assert (record.flag["ours"]["category"], record.flag["meta"]["category"]) == ("utility", "marketing")


def test_a_correction_after_the_month_closed_is_a_new_adjusting_record(number):
    message, record = send(conversation_for(number), now=utc(2026, 8, 31, 23, 59), category="UTILITY")
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}
    for _ in range(2):
        billing_status_apply(message_id=message.pk, status="sent", pricing=free, at=utc(2026, 9, 10, 8))
    record.refresh_from_db()
    # August stays as it was; the correction is booked in September.
    assert (record.state, record.amount) == ("estimated", Decimal("0.0550"))
    adjustment = BillingRecord.objects.get(kind="adjustment")
    assert (adjustment.adjusts_id, adjustment.amount) == (record.pk, Decimal("-0.0550"))
    assert adjustment.sent_at == utc(2026, 9, 10, 8)
    billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=utc(2026, 9, 10, 9))
    assert BillingRecord.objects.filter(kind="adjustment").count() == 1
    assert_rollup_matches_records(parse_month("2026-08"))
    assert_rollup_matches_records(parse_month("2026-09"))


def test_a_message_without_a_record_is_ignored(number):
    conversation = conversation_for(number, last_inbound_at=in_window_of(utc(2026, 8, 3, 10)))
    message, record = send(conversation, now=utc(2026, 8, 3, 10), type="text")
    assert record is None
    billing_status_apply(message_id=message.pk, status="sent", pricing=REGULAR_MARKETING, at=utc(2026, 8, 3, 10))
    assert BillingRecord.objects.count() == 0
