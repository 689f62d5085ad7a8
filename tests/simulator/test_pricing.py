"""The dated pricing rules as a pure function (what the status webhooks carry)."""

from __future__ import annotations

from datetime import UTC, datetime

from whatsapp.simulator.pricing import FREE_SERVICE_PER_MONTH, pricing_for

SEPTEMBER = datetime(2026, 9, 30, 23, tzinfo=UTC).timestamp()
OCTOBER = datetime(2026, 10, 1, 0, tzinfo=UTC).timestamp()


def test_service_messages_are_free_then_charged_beyond_the_monthly_tier_from_october_2026():
    before = pricing_for(template_category=None, in_window=True, sent_at=SEPTEMBER, service_used=5000)
    within = pricing_for(
        template_category=None, in_window=True, sent_at=OCTOBER, service_used=FREE_SERVICE_PER_MONTH - 1
    )
    beyond = pricing_for(template_category=None, in_window=True, sent_at=OCTOBER, service_used=FREE_SERVICE_PER_MONTH)
    assert (before["type"], before["billable"]) == ("free_customer_service", False)
    assert (within["type"], within["billable"]) == ("free_customer_service", False)
    assert (beyond["type"], beyond["category"], beyond["billable"]) == ("regular", "service", True)


def test_marketing_and_authentication_are_always_regular():
    for category in ("MARKETING", "AUTHENTICATION"):
        pricing = pricing_for(template_category=category, in_window=True, sent_at=SEPTEMBER, service_used=0)
        assert (pricing["type"], pricing["category"]) == ("regular", category.lower())
