from __future__ import annotations

from decimal import Decimal

from django import template

from billing.pricing import money as _money

register = template.Library()


@register.filter
def money(value) -> str:
    """Decimal amounts without trailing zeros past the cents: 0.295000 -> 0.295, 2 -> 2.00."""
    if value is None or value == "":
        return ""
    return _money(value if isinstance(value, Decimal) else Decimal(str(value)))
