"""Writes for business numbers."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

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


def number_quality_apply(
    *,
    waba_id: str,
    display_phone_number: str,
    at: datetime,
    event: str = "",
    limit: str = "",
    quality_rating: str = "",
    clear_event: bool = False,
) -> BusinessNumber | None:
    """Meta's word on a number's messaging limit and quality (a phone_number_quality_update
    webhook, or the number as Meta shows it). Meta names the number by its display digits within
    the business account. A word older than the one kept changes nothing (webhooks can arrive
    late and out of order). None when no such number is ours."""
    display = "".join(ch for ch in display_phone_number if ch.isdigit())
    with transaction.atomic():
        number = (
            BusinessNumber.objects.select_for_update()
            .filter(waba_id=waba_id, display_phone_number=display)
            .order_by("pk")
            .first()
        )
        if number is None:
            return None
        if number.quality_updated_at is not None and at < number.quality_updated_at:
            return number
        if limit:
            number.messaging_limit = limit[:32]
        if event or clear_event:
            number.quality_event = event[:32]
        if quality_rating:
            number.quality_rating = quality_rating[:16]
        number.quality_updated_at = at
        number.save(update_fields=["messaging_limit", "quality_event", "quality_rating", "quality_updated_at"])
    return number


def number_quality_refresh(*, number: BusinessNumber, now: datetime) -> BusinessNumber:
    """Ask Meta for the number's quality rating and messaging limit now (GET /{phone_number_id}).
    What Meta shows now replaces its last event (a flag it may have lifted since). Raises
    whatsapp.errors.CloudApiError when Meta cannot answer."""
    from whatsapp.client import get_client

    info = get_client().phone_number_info(phone_number_id=number.phone_number_id)
    rating = str(info.get("quality_rating") or "").upper()
    return (
        number_quality_apply(
            waba_id=number.waba_id,
            display_phone_number=number.display_phone_number,
            at=now,
            limit=str(info.get("messaging_limit_tier") or "").upper(),
            quality_rating="" if rating in ("NA", "UNKNOWN") else rating,
            clear_event=True,
        )
        or number
    )
