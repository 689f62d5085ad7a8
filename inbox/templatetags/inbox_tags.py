"""Small display helpers for the agent pages (times in the viewer's zone, ticks, reasons)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.queries import window_state

TYPE_LABELS = {
    "image": gettext_lazy("Photo"),
    "video": gettext_lazy("Video"),
    "audio": gettext_lazy("Audio"),
    "voice": gettext_lazy("Voice message"),
    "document": gettext_lazy("Document"),
    "sticker": gettext_lazy("Sticker"),
    "location": gettext_lazy("Location"),
    "contacts": gettext_lazy("Contact card"),
    "reaction": gettext_lazy("Reaction"),
    "template": gettext_lazy("Template"),
    "interactive": gettext_lazy("Button reply"),
    "button": gettext_lazy("Button reply"),
    "unsupported": gettext_lazy("Unsupported message"),
}


register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """A list time in the viewer's zone: the time today, the weekday this week, else the date."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    days = (today - local.date()).days
    if days == 0:
        return formats.time_format(local, "H:i")
    if days == 1:
        return _("yesterday")
    if 1 < days < 7:
        return formats.date_format(local, "D")
    return formats.date_format(local, "SHORT_DATE_FORMAT")


@register.filter
def sort_key(value: datetime | None) -> str:
    """A number the live list sorts rows by (microseconds since the epoch; no message sorts first)."""
    if value is None:
        return "99999999999999999"
    return str(int(value.timestamp() * 1_000_000))


@register.filter
def initial(contact) -> str:
    # The name shown beside it: the agent's name for the customer, else the WhatsApp profile name.
    shown = getattr(contact, "name", "") or getattr(contact, "profile_name", "")
    text = (shown or getattr(contact, "wa_id", "") or "?").strip()
    return text[:1].upper() if text else "?"


@register.filter
def failure_reason(message) -> str:
    """Meta's refusal in plain words for agents (whatsapp.errors when present)."""
    code = getattr(message, "error_code", None)
    if code is not None:
        from whatsapp.errors import reason_for

        return str(reason_for(code))
    # No code from Meta: our own reason (a network failure, a refusal before sending).
    return message.error_details or message.error_title or _("WhatsApp did not deliver this message.")


@register.simple_tag
def window_of(conversation):
    return window_state(conversation)


@register.filter
def message_time(message) -> datetime:
    """When the message was written or sent, for the bubble."""
    # Inbound: Meta's timestamp of the customer's message; outbound: when Meta accepted it, else when queued.
    return message.sent_at or message.created_at


@register.filter
def message_when(value: datetime) -> str:
    """A message's time in the viewer's zone, with the date when it is not from today."""
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    # The locale's day-and-month ("29. November" in German, "November 29" in English) and the time.
    return f"{formats.date_format(local, 'MONTH_DAY_FORMAT')}, {formats.time_format(local, 'H:i')}"


@register.filter
def type_label(kind: str | None) -> str:
    """A message type in words, for a snippet or a quote without text."""
    return str(TYPE_LABELS.get(kind or "", kind or ""))


# Raster images shown inline; anything else (an SVG could carry script) is only a download.
INLINE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


@register.filter
def is_image(message) -> bool:
    return (message.media_mime_type or "").split(";")[0].strip().lower() in INLINE_IMAGE_TYPES
