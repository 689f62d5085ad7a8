"""The `pricing` object Meta puts on status webhooks, by Meta's rules at the time of sending.

The rules are dated (cloud-api.md 5.1 and 5.3): until 2026-09-30 free-form replies and utility
templates inside the customer service window are free; from 2026-10-01 service messages are
free only within 1,000 per business number and month, and in-window utility templates are paid.
"""

from __future__ import annotations

from datetime import UTC, datetime

SERVICE_CHARGED_FROM = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
FREE_SERVICE_PER_MONTH = 1000


def _pricing(billable: bool, type_: str, category: str) -> dict:
    # `billable` is deprecated by Meta but still sent; consumers should use type + category.
    return {"billable": billable, "pricing_model": "PMP", "type": type_, "category": category}


def pricing_for(*, template_category: str | None, in_window: bool, sent_at: float, service_used: int) -> dict:
    """`template_category` is None for a free-form message; `service_used` counts the service
    messages this business number already had delivered this month."""
    charged_era = sent_at >= SERVICE_CHARGED_FROM
    if template_category is None:
        if charged_era and service_used >= FREE_SERVICE_PER_MONTH:
            return _pricing(True, "regular", "service")
        return _pricing(False, "free_customer_service", "service")
    category = template_category.lower()
    if category == "utility" and in_window and not charged_era:
        return _pricing(False, "free_customer_service", "utility")
    return _pricing(True, "regular", category)


def month_key(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")
