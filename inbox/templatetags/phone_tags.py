"""Phone numbers as people write them: "+49 30 1234567" rather than the stored "49301234567"."""

from __future__ import annotations

from functools import lru_cache

from django import template

register = template.Library()


@lru_cache(maxsize=1024)
def _international(digits: str) -> str:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return f"+{digits}"
    if not phonenumbers.is_possible_number(parsed):
        return f"+{digits}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone(value) -> str:
    """Digits with the country code (a wa_id, a display number) in the international format;
    "+" and the digits as they are when phonenumbers cannot place them; "" for nothing."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return _international(digits) if digits else ""


@register.filter
def business_number(number) -> str:
    """A business number by its name and number ("Support DE · +49 30 1234567"), or the number."""
    shown = phone(number.display_phone_number)
    return f"{number.name} · {shown}" if number.name else shown
