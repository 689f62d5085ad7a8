"""Writes for business numbers."""

from __future__ import annotations

from conversations.models import BusinessNumber


def business_number_add(
    *, phone_number_id: str, display_phone_number: str, waba_id: str, name: str = ""
) -> BusinessNumber:
    """Add a number (or update the one with this phone_number_id)."""
    display = "".join(ch for ch in display_phone_number if ch.isdigit())
    number, _ = BusinessNumber.objects.update_or_create(
        phone_number_id=phone_number_id,
        defaults={"display_phone_number": display, "waba_id": waba_id, "name": name},
    )
    return number
