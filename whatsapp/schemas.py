"""Typed views of Meta's webhook JSON (cloud-api.md section 1).

Two layers: private `_Wire*` models validate what Meta sends (extra fields ignored, numbers
accepted as strings or ints, every newer field optional), and the public models hold the
shape the rest of the project uses (docs/seams.md). Only this module knows the wire format.

Reading is tolerant part by part: one unreadable message does not hide the others in a batch;
it is reported in `MessagesChange.invalid` so the event can be flagged for an admin.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

# --- tolerant scalar types ------------------------------------------------------------------


def _to_str(value: Any) -> Any:
    # Identifiers arrive as strings, but YAML-converted examples (and some SDKs) send numbers.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _to_datetime(value: Any) -> Any:
    """Unix seconds (string or number) to an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("a timestamp, not a boolean")
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError(f"timestamp must be Unix seconds, got {value[:40]!r}")
        value = int(value)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError("timestamp out of range") from exc
    raise ValueError("timestamp must be Unix seconds")


# Meta's clock is trusted within a sane range around the time we read it: a message from before
# WhatsApp's time, or from far ahead (year 9999 overflowed every window computed from it, and a
# merely future one pinned its thread open at the top), gets the nearest sane time instead, and
# the parsed part says so in `timestamp_clamped_from` (the value as sent).
EARLIEST_TIMESTAMP = datetime(2009, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=5)
_MAX_SECONDS = 10**12  # far past any sane time, small enough for float arithmetic


def _to_seconds(value: Any) -> Any:
    """Unix seconds (string or number), not yet judged: `clamp_timestamp` does that."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, bool):
        raise ValueError("a timestamp, not a boolean")
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"timestamp must be Unix seconds, got {value[:40]!r}")
        value = int(value)
    if isinstance(value, int):
        return float(min(value, _MAX_SECONDS))
    if isinstance(value, float) and not math.isnan(value):
        return max(min(value, float(_MAX_SECONDS)), -float(_MAX_SECONDS))
    raise ValueError("timestamp must be Unix seconds")


def clamp_timestamp(seconds: float, *, now: datetime) -> tuple[datetime, bool]:
    """(a sane aware UTC time, whether it had to be changed) for Meta's Unix seconds."""
    latest = now + FUTURE_TOLERANCE
    if seconds > latest.timestamp():
        return latest, True
    if seconds < EARLIEST_TIMESTAMP.timestamp():
        return EARLIEST_TIMESTAMP, True
    return datetime.fromtimestamp(seconds, tz=UTC), False


def _as_sent(part: dict[str, Any]) -> str:
    return str(part.get("timestamp"))[:40]


# Lone UTF-16 surrogates: JSON's "\ud83d" escapes decode to them, and UTF-8 cannot encode them.
_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def storable(value: Any) -> Any:
    """The same JSON, storable in PostgreSQL text and jsonb, which cannot hold NUL characters,
    lone surrogates (both become U+FFFD) or NaN and Infinity (kept as the words Meta sent)."""
    if isinstance(value, str):
        return _UNSTORABLE_CHARACTERS.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[str(value)]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


Id = Annotated[str, BeforeValidator(_to_str)]
Timestamp = Annotated[datetime, BeforeValidator(_to_datetime)]
UnixSeconds = Annotated[float, BeforeValidator(_to_seconds)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Model(BaseModel):
    """Public models: immutable, ignore what they do not know."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PayloadError(ValueError):
    """The body is not JSON or not a webhook envelope; `str(exc)` is a readable reason."""


# --- the envelope ---------------------------------------------------------------------------


class _WireChange(_Wire):
    field: str
    value: dict[str, Any] = Field(default_factory=dict)


class _WireEntry(_Wire):
    id: Id = ""
    time: int | None = None
    changes: list[_WireChange] = Field(default_factory=list)


class Envelope(_Wire):
    object: str = ""
    entry: list[_WireEntry]


def _short_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_webhook(body: bytes) -> Envelope:
    """The envelope of a webhook body; raises PayloadError with a readable reason."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    except RecursionError:
        raise PayloadError("not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError(f"not a webhook envelope: the body is a JSON {type(data).__name__}")
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(f"not a webhook envelope: {_short_errors(exc)}") from None
    except RecursionError:
        raise PayloadError("not a webhook envelope: nested too deeply") from None


# --- shared parts ---------------------------------------------------------------------------


class _WireErrorData(_Wire):
    details: str = ""


class _WireError(_Wire):
    code: int | None = None
    title: str = ""
    message: str = ""
    error_data: _WireErrorData | None = None
    href: str = ""


class ApiErrorInfo(Model):
    code: int | None = None
    title: str = ""
    message: str = ""
    details: str = ""

    @classmethod
    def from_wire(cls, part: dict[str, Any]) -> ApiErrorInfo:
        wire = _WireError.model_validate(part)
        return cls(
            code=wire.code,
            title=wire.title,
            message=wire.message or wire.title,
            details=wire.error_data.details if wire.error_data else "",
        )


class _WireProfile(_Wire):
    name: str = ""
    username: str = ""


class _WireContact(_Wire):
    wa_id: Id | None = None
    user_id: Id | None = None
    profile: _WireProfile = Field(default_factory=_WireProfile)


class ContactProfile(Model):
    wa_id: str | None = None
    user_id: str | None = None
    name: str = ""
    username: str = ""

    @classmethod
    def from_wire(cls, part: dict[str, Any]) -> ContactProfile:
        wire = _WireContact.model_validate(part)
        return cls(
            wa_id=wire.wa_id or None,
            user_id=wire.user_id or None,
            name=wire.profile.name,
            username=wire.profile.username,
        )


# --- inbound messages -----------------------------------------------------------------------

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
KNOWN_TYPES = frozenset(
    {
        "text",
        *MEDIA_TYPES,
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
    }
)


class MediaRef(Model):
    id: str
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    url: str = ""
    voice: bool = False


class _WireMedia(_Wire):
    id: Id
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    url: str = ""
    voice: bool = False


class _WireContext(_Wire):
    id: str | None = None


class _WireMessage(_Wire):
    id: str = Field(min_length=1)
    from_: Id | None = Field(default=None, alias="from")
    from_user_id: Id | None = None
    timestamp: UnixSeconds
    type: str = "unsupported"
    context: _WireContext | None = None


class InboundMessage(Model):
    id: str
    from_wa_id: str | None = None
    from_user_id: str | None = None
    timestamp: datetime
    type: str
    text: str = ""
    context_id: str | None = None
    reaction_to: str | None = None
    reaction_emoji: str | None = None
    media: MediaRef | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    # Meta's timestamp as sent, when it was out of the sane range and `timestamp` replaces it.
    timestamp_clamped_from: str | None = None

    @classmethod
    def from_wire(cls, part: dict[str, Any], *, now: datetime | None = None) -> InboundMessage:
        part = storable(part)
        wire = _WireMessage.model_validate(part)
        timestamp, clamped = clamp_timestamp(wire.timestamp, now=now or datetime.now(UTC))
        kind = wire.type if wire.type in KNOWN_TYPES else "unsupported"
        content = part.get(wire.type)
        content = content if isinstance(content, dict) else {}
        media = None
        if kind in MEDIA_TYPES and content.get("id") not in (None, ""):
            media = MediaRef(**_WireMedia.model_validate(content).model_dump())
        reaction_to = reaction_emoji = None
        if kind == "reaction":
            reaction_to = _text(content.get("message_id")) or None
            # Removing a reaction arrives without `emoji` (or with an empty one).
            reaction_emoji = _text(content.get("emoji")) or None
        return cls(
            id=wire.id,
            from_wa_id=wire.from_ or None,
            from_user_id=wire.from_user_id or None,
            timestamp=timestamp,
            timestamp_clamped_from=_as_sent(part) if clamped else None,
            type=kind,
            text=_contacts_text(part) if kind == "contacts" else _display_text(kind, content),
            context_id=wire.context.id if wire.context and wire.context.id else None,
            reaction_to=reaction_to,
            reaction_emoji=reaction_emoji,
            media=media,
            raw=part,
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _display_text(kind: str, content: dict[str, Any]) -> str:
    """One line an agent can read, whatever the type."""
    if kind == "text":
        return _text(content.get("body"))
    if kind in ("image", "video", "document"):
        return _text(content.get("caption")) or (_text(content.get("filename")) if kind == "document" else "")
    if kind == "location":
        name, address = _text(content.get("name")), _text(content.get("address"))
        if name or address:
            return ", ".join(p for p in (name, address) if p)
        return f"{_text(content.get('latitude'))}, {_text(content.get('longitude'))}".strip(", ")
    if kind == "interactive":
        sub = content.get(_text(content.get("type")))
        if isinstance(sub, dict):
            return _text(sub.get("title")) or _text(sub.get("body")) or _text(sub.get("name"))
        return ""
    if kind == "button":
        return _text(content.get("text")) or _text(content.get("payload"))
    if kind == "reaction":
        return _text(content.get("emoji"))
    if kind == "order":
        return _text(content.get("text"))
    if kind == "system":
        return _text(content.get("body"))
    return ""


def _contacts_text(part: dict[str, Any]) -> str:
    names = []
    for card in part.get("contacts") or []:
        if isinstance(card, dict) and isinstance(card.get("name"), dict):
            names.append(_text(card["name"].get("formatted_name")))
    return ", ".join(n for n in names if n)


# --- statuses -------------------------------------------------------------------------------


class Pricing(Model):
    billable: bool | None = None
    pricing_model: str = ""
    type: str = ""
    category: str = ""


class _WirePricing(_Wire):
    billable: bool | None = None
    pricing_model: str = ""
    type: str = ""
    category: str = ""


class _WireStatus(_Wire):
    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    timestamp: UnixSeconds
    recipient_id: Id | None = None
    recipient_user_id: Id | None = None
    pricing: _WirePricing | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class Status(Model):
    id: str
    status: str
    timestamp: datetime
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    pricing: Pricing | None = None
    errors: list[ApiErrorInfo] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict)
    timestamp_clamped_from: str | None = None

    @classmethod
    def from_wire(cls, part: dict[str, Any], *, now: datetime | None = None) -> Status:
        part = storable(part)
        wire = _WireStatus.model_validate(part)
        timestamp, clamped = clamp_timestamp(wire.timestamp, now=now or datetime.now(UTC))
        return cls(
            id=wire.id,
            status=wire.status.lower(),
            timestamp=timestamp,
            timestamp_clamped_from=_as_sent(part) if clamped else None,
            recipient_id=wire.recipient_id or None,
            recipient_user_id=wire.recipient_user_id or None,
            pricing=Pricing(**wire.pricing.model_dump()) if wire.pricing else None,
            errors=[ApiErrorInfo.from_wire(e) for e in wire.errors if isinstance(e, dict)],
            raw=part,
        )


# --- user preferences -----------------------------------------------------------------------


class _WirePreference(_Wire):
    wa_id: Id | None = None
    user_id: Id | None = None
    category: str = ""
    value: str = Field(min_length=1)
    timestamp: UnixSeconds
    detail: str = ""


class UserPreference(Model):
    wa_id: str | None = None
    user_id: str | None = None
    category: str = ""
    value: str
    timestamp: datetime
    detail: str = ""
    timestamp_clamped_from: str | None = None

    @classmethod
    def from_wire(cls, part: dict[str, Any], *, now: datetime | None = None) -> UserPreference:
        wire = _WirePreference.model_validate(part)
        timestamp, clamped = clamp_timestamp(wire.timestamp, now=now or datetime.now(UTC))
        return cls(
            wa_id=wire.wa_id or None,
            user_id=wire.user_id or None,
            category=wire.category,
            value=wire.value.lower(),
            timestamp=timestamp,
            timestamp_clamped_from=_as_sent(part) if clamped else None,
            detail=wire.detail,
        )


# --- typed changes --------------------------------------------------------------------------


class InvalidPart(Model):
    """A part of a change we could not read: kept for the admin, never silently dropped."""

    kind: str  # "message", "status", "contact", "user_preference", "error", "change"
    reason: str
    raw: Any = None


class MessagesChange(Model):
    field: str = "messages"
    waba_id: str
    phone_number_id: str
    display_phone_number: str = ""
    contacts: list[ContactProfile] = Field(default_factory=list)
    messages: list[InboundMessage] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    errors: list[ApiErrorInfo] = Field(default_factory=list)
    user_preferences: list[UserPreference] = Field(default_factory=list)
    invalid: list[InvalidPart] = Field(default_factory=list)

    def profile_for(self, message: InboundMessage) -> ContactProfile | None:
        """The sender's profile from `contacts[]`: matched by wa_id or user_id, else the only one."""
        for profile in self.contacts:
            if message.from_wa_id and profile.wa_id == message.from_wa_id:
                return profile
            if message.from_user_id and profile.user_id == message.from_user_id:
                return profile
        return self.contacts[0] if len(self.contacts) == 1 else None


class _WireTemplateChange(_Wire):
    message_template_id: Id | None = None
    message_template_name: str = ""
    message_template_language: str = ""


def normalise_language(code: str) -> str:
    """`en-US` (template webhooks) and `en_US` (sending) name the same language."""
    return code.replace("-", "_")


class TemplateStatusChange(Model):
    field: str = "message_template_status_update"
    waba_id: str
    template_id: str | None = None
    name: str = ""
    language: str = ""
    event: str = ""
    reason: str | None = None
    category: str = ""
    other_info: dict[str, Any] | None = None
    rejection_info: dict[str, Any] | None = None
    disable_info: dict[str, Any] | None = None
    # When Meta says it happened (the entry's `time`), so a late delivery cannot move it back.
    meta_time: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class _WireTemplateStatus(_WireTemplateChange):
    event: str = ""
    reason: str | None = None
    message_template_category: str = ""
    other_info: dict[str, Any] | None = None
    rejection_info: dict[str, Any] | None = None
    disable_info: dict[str, Any] | None = None


class TemplateQualityChange(Model):
    field: str = "message_template_quality_update"
    waba_id: str
    template_id: str | None = None
    name: str = ""
    language: str = ""
    previous_quality: str = ""
    new_quality: str = ""
    # When Meta says it happened (the entry's `time`), so a late delivery cannot move it back.
    meta_time: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class _WireTemplateQuality(_WireTemplateChange):
    previous_quality_score: str = ""
    new_quality_score: str = ""


class TemplateCategoryChange(Model):
    field: str = "template_category_update"
    waba_id: str
    template_id: str | None = None
    name: str = ""
    language: str = ""
    previous_category: str = ""
    new_category: str = ""
    correct_category: str = ""
    category_update_timestamp: datetime | None = None
    # When Meta says it happened (the entry's `time`), so a late delivery cannot move it back.
    meta_time: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class _WireTemplateCategory(_WireTemplateChange):
    previous_category: str = ""
    new_category: str = ""
    correct_category: str = ""
    category_update_timestamp: Timestamp | None = None


class NumberQualityChange(Model):
    """phone_number_quality_update: Meta changed a number's messaging limit or flagged its quality.

    Meta names the number by its display digits (no phone_number_id). `limit` is the newest of
    `max_daily_conversations_per_business` and the older `current_limit` (TIER_250, TIER_2K, …).
    """

    field: str = "phone_number_quality_update"
    waba_id: str
    display_phone_number: str
    event: str = ""  # FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ONBOARDING, THROUGHPUT_UPGRADE
    limit: str = ""
    old_limit: str = ""
    meta_time: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class _WireNumberQuality(_Wire):
    display_phone_number: Id = Field(min_length=1)
    event: Id = ""
    current_limit: Id = ""
    old_limit: Id = ""
    max_daily_conversations_per_business: Id = ""


class UnknownChange(Model):
    """A field we do not handle (account updates, calls, echoes, …): kept, never dropped."""

    field: str
    waba_id: str = ""
    value: dict[str, Any] = Field(default_factory=dict)


class InvalidChange(Model):
    """A change we handle whose value could not be read at all."""

    field: str
    waba_id: str = ""
    reason: str
    value: dict[str, Any] = Field(default_factory=dict)


Change = (
    MessagesChange
    | TemplateStatusChange
    | TemplateQualityChange
    | TemplateCategoryChange
    | NumberQualityChange
    | UnknownChange
    | InvalidChange
)

MESSAGES_FIELDS = frozenset({"messages", "user_preferences"})


TEMPLATE_CHANGE_TYPES = (TemplateStatusChange, TemplateQualityChange, TemplateCategoryChange)
TIMED_CHANGE_TYPES = (*TEMPLATE_CHANGE_TYPES, NumberQualityChange)


def iter_changes(envelope: Envelope, *, now: datetime | None = None) -> Iterator[Change]:
    """Every change of every entry, typed; in the order Meta sent them.

    `now` is when the body was received (default: the current time); Meta's timestamps are
    kept within a sane range around it (`clamp_timestamp`).
    """
    now = now or datetime.now(UTC)
    for entry in envelope.entry:
        for change in entry.changes:
            change = _WireChange(field=storable(change.field), value=storable(change.value))
            try:
                typed = _typed_change(entry.id, change, now=now)
                if entry.time is not None and isinstance(typed, TIMED_CHANGE_TYPES):
                    typed = typed.model_copy(update={"meta_time": clamp_timestamp(float(entry.time), now=now)[0]})
                yield typed
            except ValidationError as exc:
                yield InvalidChange(field=change.field, waba_id=entry.id, reason=_short_errors(exc), value=change.value)


def _template_common(waba_id: str, wire: _WireTemplateChange, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "waba_id": waba_id,
        "template_id": wire.message_template_id,
        "name": wire.message_template_name,
        "language": normalise_language(wire.message_template_language),
        "raw": value,
    }


def _typed_change(waba_id: str, change: _WireChange, *, now: datetime) -> Change:
    value = change.value
    if change.field in MESSAGES_FIELDS:
        return _messages_change(waba_id, change.field, value, now=now)
    if change.field == "message_template_status_update":
        wire = _WireTemplateStatus.model_validate(value)
        return TemplateStatusChange(
            **_template_common(waba_id, wire, value),
            event=wire.event.upper(),
            reason=wire.reason,
            category=wire.message_template_category.upper(),
            other_info=wire.other_info,
            rejection_info=wire.rejection_info,
            disable_info=wire.disable_info,
        )
    if change.field == "message_template_quality_update":
        wire = _WireTemplateQuality.model_validate(value)
        return TemplateQualityChange(
            **_template_common(waba_id, wire, value),
            previous_quality=wire.previous_quality_score.upper(),
            new_quality=wire.new_quality_score.upper(),
        )
    if change.field == "template_category_update":
        wire = _WireTemplateCategory.model_validate(value)
        return TemplateCategoryChange(
            **_template_common(waba_id, wire, value),
            previous_category=wire.previous_category.upper(),
            new_category=wire.new_category.upper(),
            correct_category=wire.correct_category.upper(),
            category_update_timestamp=wire.category_update_timestamp,
        )
    if change.field == "phone_number_quality_update":
        wire = _WireNumberQuality.model_validate(value)
        return NumberQualityChange(
            waba_id=waba_id,
            display_phone_number="".join(ch for ch in wire.display_phone_number if ch.isdigit()),
            event=wire.event.upper(),
            limit=(wire.max_daily_conversations_per_business or wire.current_limit).upper(),
            old_limit=wire.old_limit.upper(),
            raw=value,
        )
    return UnknownChange(field=change.field, waba_id=waba_id, value=value)


class _WireMetadata(_Wire):
    phone_number_id: Id = Field(min_length=1)
    display_phone_number: Id = ""


class _WireMessagesValue(_Wire):
    metadata: _WireMetadata
    contacts: list[Any] = Field(default_factory=list)
    messages: list[Any] = Field(default_factory=list)
    statuses: list[Any] = Field(default_factory=list)
    errors: list[Any] = Field(default_factory=list)
    user_preferences: list[Any] = Field(default_factory=list)


_PARTS = (
    ("contacts", "contact", ContactProfile),
    ("messages", "message", InboundMessage),
    ("statuses", "status", Status),
    ("errors", "error", ApiErrorInfo),
    ("user_preferences", "user_preference", UserPreference),
)


_TIMED_PARTS = (InboundMessage, Status, UserPreference)


def _messages_change(waba_id: str, field: str, value: dict[str, Any], *, now: datetime) -> MessagesChange:
    wire = _WireMessagesValue.model_validate(value)
    parsed: dict[str, list[Any]] = {}
    invalid: list[InvalidPart] = []
    for key, kind, model in _PARTS:
        parsed[key] = []
        for part in getattr(wire, key):
            if not isinstance(part, dict):
                invalid.append(InvalidPart(kind=kind, reason=f"a JSON {type(part).__name__}, not an object", raw=part))
                continue
            try:
                item = model.from_wire(part, now=now) if model in _TIMED_PARTS else model.from_wire(part)
            except ValidationError as exc:
                invalid.append(InvalidPart(kind=kind, reason=_short_errors(exc), raw=part))
                continue
            parsed[key].append(item)
    return MessagesChange(
        field=field,
        waba_id=waba_id,
        phone_number_id=wire.metadata.phone_number_id,
        display_phone_number=wire.metadata.display_phone_number,
        invalid=invalid,
        **parsed,
    )
