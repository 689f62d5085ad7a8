"""Small display helpers for the agent pages (times in the viewer's zone, ticks, reasons)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from conversations.models import contact_initial
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
    zone = timezone.get_current_timezone()
    return _list_short(timezone.localtime(value, zone), timezone.localdate(timezone=zone), get_language())


def _list_short(local: datetime, today, language: str) -> str:
    days = (today - local.date()).days
    if days == 0:
        return _hours_minutes(local)
    if days == 1:
        return _("yesterday")
    if 1 < days < 7:
        return local_format(local, "D", language)
    return local_format(local, "SHORT_DATE_FORMAT", language)


def _hours_minutes(local: datetime) -> str:
    """time_format(local, "H:i"): a fixed format, not the locale's."""
    return f"{local.hour:02d}:{local.minute:02d}"


# Django's date formatting reads the format string and looks up the locale's words again for
# every value: 25-35 us a time, 80 us for a bubble's time (its title and its short form), a tenth
# of a thread page the first time it is shown. The format's pieces depend only on the day or
# only on the hour and minute, so each piece is kept by day (or minute) and language: a small set
# that stays warm, whatever the times shown. Formats with a piece that needs more (seconds, the
# zone's name or offset) are formatted by Django as before.
_DAY_SPECIFIERS = frozenset("bdDEFjlLmMnNoStwWyYz")
_MINUTE_SPECIFIERS = frozenset("aAfgGhHiP")


def local_format(local: datetime, format_name: str, language: str) -> str:
    """formats.date_format(local, format_name) in the active language, which is `language`."""
    format_string = formats.get_format(format_name)
    pieces = _format_pieces(format_string)
    if pieces is None:
        return dateformat.format(local, format_string)
    day, minute = local.date(), (local.hour, local.minute)
    return "".join(
        (_day_piece(day, text, language) if text in _DAY_SPECIFIERS else _minute_piece(minute, text, language))
        if is_specifier
        else text
        for is_specifier, text in pieces
    )


@lru_cache(maxsize=64)
def _format_pieces(format_string: str) -> tuple[tuple[bool, str], ...] | None:
    """The format split as Django's dateformat.Formatter splits it: (True, specifier) or (False,
    literal text); None if a specifier needs more than the day and the minute."""
    pieces = []
    for i, piece in enumerate(dateformat.re_formatchars.split(str(format_string))):
        if i % 2:
            if piece not in _DAY_SPECIFIERS and piece not in _MINUTE_SPECIFIERS:
                return None
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, dateformat.re_escaped.sub(r"\1", piece)))
    return tuple(pieces)


@lru_cache(maxsize=4096)
def _day_piece(day: date, specifier: str, language: str) -> str:
    return str(getattr(dateformat.DateFormat(day), specifier)())


@lru_cache(maxsize=4096)
def _minute_piece(minute: tuple[int, int], specifier: str, language: str) -> str:
    return str(getattr(dateformat.TimeFormat(time(*minute)), specifier)())


@register.filter
def sort_key(value: datetime | None) -> str:
    """A number the live list sorts rows by (microseconds since the epoch; no message sorts first)."""
    if value is None:
        return "99999999999999999"
    return str(int(value.timestamp() * 1_000_000))


@register.filter
def initial(contact) -> str:
    return contact_initial(
        getattr(contact, "name", ""), getattr(contact, "profile_name", ""), getattr(contact, "wa_id", "")
    )


@register.filter
def person(user) -> str:
    """A teammate as the pages name them: the full name, else the username; "" for an account
    deleted since (None), where `|default:` on the username would raise instead of falling back."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


@register.filter
def failure_reason(message) -> str:
    """Meta's refusal in plain words for agents (whatsapp.errors when present)."""
    code = getattr(message, "error_code", None)
    if code is not None:
        from whatsapp.errors import Kind, classify, reason_for

        if classify(code).kind is Kind.TRANSIENT and getattr(message, "status", "") == "failed":
            # Meta's words for a passing error say "retrying", which no longer holds once it failed.
            return _("WhatsApp had a passing problem (error %(code)s) and did not deliver it.") % {"code": code}
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
    zone = timezone.get_current_timezone()
    return _message_short(timezone.localtime(value, zone), timezone.localdate(timezone=zone), get_language())


def _message_short(local: datetime, today, language: str) -> str:
    if local.date() == today:
        return _hours_minutes(local)
    # The locale's day-and-month ("29. November" in German, "November 29" in English) and the time.
    return f"{local_format(local, 'MONTH_DAY_FORMAT', language)}, {_hours_minutes(local)}"


@register.filter
def type_label(kind: str | None) -> str:
    """A message type in words, for a snippet or a quote without text."""
    return str(TYPE_LABELS.get(kind or "", kind or ""))


# Raster images shown inline; anything else (an SVG could carry script) is only a download.
INLINE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


@register.filter
def is_image(message) -> bool:
    return (message.media_mime_type or "").split(";")[0].strip().lower() in INLINE_IMAGE_TYPES


# --- cheaper building blocks for the pages' repeated parts ---------------------------------------
# A list page renders 30 rows and a thread 20 messages, each with links, times and a window badge:
# the generic tags ({% url %}, |date, {% include %}, {% blocktranslate %}) cost most of the page's
# CPU there. These produce the same markup in one Python call each.

_URL_MARKERS = (918_273_645, 918_273_646)  # distinctive integers reverse() puts where the ids go


@lru_cache(maxsize=64)
def _path_pattern(name: str, arity: int, prefix: str, urlconf: str | None) -> str | None:
    """The URL of `name` with "{}" where its integer arguments go (None if it cannot be made)."""
    markers = _URL_MARKERS[:arity]
    path = reverse(name, args=markers, urlconf=urlconf)
    pattern = path
    for marker in markers:
        if pattern.count(str(marker)) != 1:
            return None
        pattern = pattern.replace(str(marker), "{}")
    return pattern


@register.simple_tag
def id_url(name: str, *ids) -> str:
    """{% url name id ... %} for integer ids, reversing each URL pattern once per process (and
    script prefix) rather than once per row: the ids only fill in the slots."""
    if len(ids) > len(_URL_MARKERS) or not all(type(i) is int for i in ids):
        return reverse(name, args=ids)
    pattern = _path_pattern(name, len(ids), get_script_prefix(), get_urlconf())
    return pattern.format(*ids) if pattern else reverse(name, args=ids)


@register.filter
def iso(value: datetime | None) -> str:
    """|date:'c' (the ISO 8601 time in the viewer's zone) without the generic formatter."""
    return timezone.localtime(value).isoformat() if value else ""


# A page shows the same times again and again (the list's first page on every visit), and
# Django's date formatting is slow: the two tags below keep what they wrote, keyed by everything
# the markup depends on (the time, the viewer's zone and language, and today's date).
_VIEWS_KEPT = 4096


def _viewer() -> tuple:
    return timezone.get_current_timezone(), get_language()


def shown_time(value: datetime, format_name: str) -> str:
    """{{ value|date:format_name }} of an aware time, in the viewer's zone and language (not escaped)."""
    zone, language = _viewer()
    return local_format(timezone.localtime(value, zone), format_name, language)


@register.simple_tag
def time_element(value: datetime | None, style: str = "list") -> str:
    """<time datetime=... title=...> with the local ISO time, the locale's full date and time as
    its title, and the short form (`when` in the list, `message_when` in a thread)."""
    if value is None:
        return ""
    zone, language = _viewer()
    return _time_element(value, style, zone, language, timezone.localdate(timezone=zone))


def list_time(value: datetime, zone, language: str, today) -> str:
    """time_element(value) for a viewer already known (a page of rows looks them up once)."""
    return _time_element(value, "list", zone, language, today)


def bubble_time(value: datetime, zone, language: str, today) -> str:
    """time_element(value, "message") for a viewer already known (a page of bubbles)."""
    return _time_element(value, "message", zone, language, today)


@lru_cache(maxsize=_VIEWS_KEPT)
def _time_element(value: datetime, style: str, zone, language, today) -> str:
    local = timezone.localtime(value, zone)
    short = _list_short(local, today, language) if style == "list" else _message_short(local, today, language)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        local_format(local, "DATETIME_FORMAT", language),
        short,
    )


@register.simple_tag
def window_badge(win: dict) -> str:
    """The service window's badge (open with the time left, never opened, or closed); the
    translations are trusted as in {% blocktranslate %}, the values are escaped."""
    if not win["open"]:
        return closed_badge(win, get_language())
    return open_badge(win, *_viewer())


def open_badge(win: dict, zone, language: str) -> str:
    """window_badge(win) of an open window, for a viewer already known."""
    return _open_badge(win["expires_at"], win["hours_left"], win["minutes_left"], win["ending_soon"], zone, language)


def closed_badge(win: dict, language: str) -> str:
    """window_badge(win) of a closed window, in a language already known."""
    return _closed_badge(win["never"], language)


@lru_cache(maxsize=_VIEWS_KEPT)
def _open_badge(expires_at: datetime, hours: int, minutes: int, ending_soon: bool, zone, language) -> str:
    expires = timezone.localtime(expires_at, zone)
    title = _("until %(time)s") % {"time": conditional_escape(local_format(expires, "DATETIME_FORMAT", language))}
    text = _("window open · %(h)s h %(m)s min left") % {
        "h": conditional_escape(formats.localize(hours)),
        "m": conditional_escape(formats.localize(minutes)),
    }
    ending = " ending" if ending_soon else ""
    return mark_safe(
        f'<span class="badge window-open{ending}" data-expires="{expires.isoformat()}" title="{title}">{text}</span>'
    )


@lru_cache(maxsize=8)
def _closed_badge(never: bool, language) -> str:
    if never:
        return mark_safe(f'<span class="badge window-closed">{_("window not opened")}</span>')
    return mark_safe(f'<span class="badge window-closed">{_("window closed")}</span>')


@register.simple_tag
def reaction_buttons(emojis, label: str | None = None) -> str:
    """The quick-reaction buttons of a message's menu: the same for every message of a page (the
    message is in the form's URL), so built once per set of emojis and language."""
    return _reaction_buttons(tuple(emojis), label if label is not None else _("React"))


@lru_cache(maxsize=16)
def _reaction_buttons(emojis: tuple[str, ...], label: str) -> str:
    # The label is a translation (trusted, as {% translate %} writes it); the emojis are escaped.
    return mark_safe(
        "".join(
            f'<button type="submit" name="emoji" value="{e}" class="emoji" title="{label} {e}" '
            f'aria-label="{label} {e}">{e}</button>'
            for e in map(conditional_escape, emojis)
        )
    )


@register.simple_tag
def row_snippet(row) -> str:
    """A list row's preview of its last message: "Not delivered", "Note:" or "You:" before it, a
    reaction in words, the text cut at 90 characters, or the kind of message without text."""
    status, kind, text = (
        getattr(row, "last_status", None),
        getattr(row, "last_type", None),
        getattr(row, "last_text", None),
    )
    parts = []
    if status == "failed":
        parts.append(f'<span class="ticks-failed">{_("Not delivered")}</span> ')
    if status == "note":
        parts.append(f'<span class="muted">{_("Note:")}</span> ')
    elif getattr(row, "last_direction", None) == "out":
        parts.append(f'<span class="muted">{_("You:")}</span> ')
    if kind == "reaction":
        # As {% blocktranslate %} writes it: the value escaped (None as "None"), the words trusted.
        parts.append(_("Reacted %(emoji)s") % {"emoji": conditional_escape(text)})
    elif text:
        # Truncator counts characters as a reader sees them, never more than len(): a short text
        # (most) is kept whole without it.
        parts.append(conditional_escape(text if len(text) <= 90 else Truncator(text).chars(90)))
    elif kind:
        parts.append(f"<em>{conditional_escape(type_label(kind))}</em>")
    return mark_safe("".join(parts))


@register.simple_tag
def label_chips(names) -> str:
    """The row's labels (their names) as chips."""
    return format_html_join("", '<span class="label-chip">{}</span>', ((name,) for name in names))
