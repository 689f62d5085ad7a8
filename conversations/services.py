"""Writes for contacts, threads and messages: receiving from Meta and what agents do.

Receiving is called by webhook processing inside its transaction; it is idempotent (a
message's wamid is unique, a status never moves backwards). Sending is "record, then send":
the message is saved as queued here, and `conversations.tasks.message_deliver` hands it to
Meta after commit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from conversations import events, window
from conversations.exceptions import (
    BudgetExceeded,
    ConversationError,
    InvalidTemplateParameters,
    NotAllowed,
    OptedOut,
    TemplateNotApproved,
    WindowClosed,
)
from conversations.models import BusinessNumber, CannedResponse, Contact, Conversation, EarlyStatus, Label, Message
from whatsapp import errors

log = logging.getLogger(__name__)

# Types that should not raise the unread count (nothing for an agent to answer).
NON_UNREAD_TYPES = frozenset({"reaction", "system"})

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "STOPP", "ABMELDEN", "UNSUBSCRIBE", "PARAR", "SAIR")
# Quick-reply buttons on marketing templates that mean "stop" (payload or title).
DEFAULT_OPT_OUT_BUTTONS = ("STOP_PROMO", "STOP_PROMOTIONS", "Stop promotions", "Werbung stoppen")

# Outbound status order; a status webhook never moves a message back down this list.
STATUS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.READ: 4,
    Message.Status.PLAYED: 5,
}
STATUS_TIME_FIELD = {
    Message.Status.SENT: "sent_at",
    Message.Status.DELIVERED: "delivered_at",
    Message.Status.READ: "read_at",
    Message.Status.PLAYED: "played_at",
    Message.Status.FAILED: "failed_at",
}

MAX_SNOOZE = timedelta(days=366)


def _require_aware(value: datetime, name: str) -> datetime:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be an aware datetime")
    return value


# --- contacts ---------------------------------------------------------------------------------


def market_for(*, wa_id: str = "", user_id: str = "") -> str:
    """ISO region of the phone number's country calling code; BSUIDs carry it as a prefix ("DE.…")."""
    if wa_id:
        try:
            parsed = phonenumbers.parse(f"+{wa_id.lstrip('+')}")
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            region = phonenumbers.region_code_for_number(parsed)
            if not region or region == "001":
                # Not a valid number for any region: fall back to the calling code's main region.
                region = phonenumbers.region_code_for_country_code(parsed.country_code)
            if region and region not in ("ZZ", "001"):
                return region
    match = re.match(r"^([A-Z]{2})\.", user_id or "")
    return match.group(1) if match else ""


def _contact_find(*, wa_id: str, user_id: str) -> Contact | None:
    # The BSUID is the stable identity from 2026; a phone number can change hands.
    if user_id:
        contact = Contact.objects.filter(user_id=user_id).first()
        if contact is not None:
            return contact
    if wa_id:
        return Contact.objects.filter(wa_id=wa_id).first()
    return None


def contact_for_identity(*, wa_id: str | None, user_id: str | None, name: str = "", username: str = "") -> Contact:
    """The contact for Meta's identity (BSUID first, then phone number), created or completed."""
    # Cut to their columns: an odd value is never a reason to lose the message (its raw part
    # keeps what Meta sent, whole).
    wa_id = (wa_id or "").lstrip("+")[: Contact._meta.get_field("wa_id").max_length]
    user_id = (user_id or "")[: Contact._meta.get_field("user_id").max_length]
    name = (name or "")[: Contact._meta.get_field("profile_name").max_length]
    username = (username or "")[: Contact._meta.get_field("username").max_length]
    if not wa_id and not user_id:
        raise ValueError("a contact needs a wa_id or a user_id")
    contact = _contact_find(wa_id=wa_id, user_id=user_id)
    if contact is None:
        try:
            # A savepoint: two webhooks for the same new customer may race; the loser re-reads.
            with transaction.atomic():
                return Contact.objects.create(
                    wa_id=wa_id,
                    user_id=user_id,
                    profile_name=name or "",
                    username=username or "",
                    market=market_for(wa_id=wa_id, user_id=user_id),
                )
        except IntegrityError:
            contact = _contact_find(wa_id=wa_id, user_id=user_id)
            if contact is None:
                raise
    changed: list[str] = []
    # Store both identities once we know them, unless another contact already holds that one.
    if user_id and not contact.user_id and not Contact.objects.filter(user_id=user_id).exists():
        contact.user_id = user_id
        changed.append("user_id")
    # Same BSUID with a new phone number: the customer changed numbers.
    if (
        wa_id
        and contact.wa_id != wa_id
        and (not contact.wa_id or contact.user_id == user_id)
        and not Contact.objects.filter(wa_id=wa_id).exclude(pk=contact.pk).exists()
    ):
        contact.wa_id = wa_id
        changed.append("wa_id")
    if name and contact.profile_name != name:
        contact.profile_name = name
        changed.append("profile_name")
    if username and contact.username != username:
        contact.username = username
        changed.append("username")
    market = market_for(wa_id=contact.wa_id, user_id=contact.user_id)
    if market and contact.market != market:
        contact.market = market
        changed.append("market")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact


def _normalise_keyword(text: str) -> str:
    """ "  Abmelden! " -> "abmelden": case-folded, accents and surrounding punctuation dropped."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[\s_\-]+", " ", text)
    return re.sub(r"^[\W_]+|[\W_]+$", "", text).strip()


def is_opt_out_keyword(text: str) -> bool:
    keywords = getattr(settings, "CONVERSATIONS_OPT_OUT_KEYWORDS", DEFAULT_OPT_OUT_KEYWORDS)
    return bool(text) and _normalise_keyword(text) in {_normalise_keyword(k) for k in keywords}


def is_opt_out_button(*values: str) -> bool:
    buttons = getattr(settings, "CONVERSATIONS_OPT_OUT_BUTTONS", DEFAULT_OPT_OUT_BUTTONS)
    wanted = {_normalise_keyword(b) for b in buttons}
    return any(v and (_normalise_keyword(v) in wanted or is_opt_out_keyword(v)) for v in values)


def _message_asks_opt_out(message: Any) -> bool:
    if message.type == "text":
        return is_opt_out_keyword(message.text)
    raw = getattr(message, "raw", None) or {}
    if message.type == "button":
        button = raw.get("button") or {}
        return is_opt_out_button(button.get("payload", ""), button.get("text", ""), message.text)
    if message.type == "interactive":
        reply = (raw.get("interactive") or {}).get("button_reply") or {}
        return is_opt_out_button(reply.get("id", ""), reply.get("title", ""))
    return False


def contact_opt_out(*, contact: Contact, source: str, at: datetime) -> bool:
    """Mark the contact opted out of marketing; the first opt-out's time and source are kept."""
    _require_aware(at, "at")
    if contact.marketing_opted_out_at is not None:
        return False
    contact.marketing_opted_out_at = at
    contact.marketing_opt_out_source = source
    contact.save(update_fields=["marketing_opted_out_at", "marketing_opt_out_source", "updated_at"])
    _contact_threads_changed(contact)
    return True


def contact_opt_in(*, contact: Contact, at: datetime) -> bool:
    """Clear the opt-out, unless it was recorded after `at` (a late resume must not undo a newer stop)."""
    _require_aware(at, "at")
    if contact.marketing_opted_out_at is None or contact.marketing_opted_out_at > at:
        return False
    contact.marketing_opted_out_at = None
    contact.marketing_opt_out_source = ""
    contact.save(update_fields=["marketing_opted_out_at", "marketing_opt_out_source", "updated_at"])
    _contact_threads_changed(contact)
    return True


def _contact_threads_changed(contact: Contact) -> None:
    for conversation in Conversation.objects.filter(contact=contact):
        events.conversation_changed(conversation)


# --- receiving --------------------------------------------------------------------------------


def number_for_phone_number_id(phone_number_id: str) -> BusinessNumber | None:
    return BusinessNumber.objects.filter(phone_number_id=phone_number_id).first()


def _conversation_locked(*, number: BusinessNumber, contact: Contact) -> Conversation:
    """The (number, contact) thread, created if new, locked for this transaction."""
    conversation = Conversation.objects.select_for_update(no_key=True).filter(number=number, contact=contact).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            Conversation.objects.create(number=number, contact=contact)
    except IntegrityError:
        pass  # created concurrently; lock that one
    return Conversation.objects.select_for_update(no_key=True).get(number=number, contact=contact)


def conversation_get_or_create(*, number: BusinessNumber, contact: Contact) -> Conversation:
    """The thread of this number and customer, created if new (for business-initiated sends),
    locked for the caller's transaction."""
    return _conversation_locked(number=number, contact=contact)


@transaction.atomic
def inbound_message_receive(*, number: BusinessNumber, message: Any, profile: Any | None) -> Message | None:
    """Store a customer's message in its thread; None when this wamid was already stored.

    `message` is a `whatsapp.schemas.InboundMessage`, `profile` its `ContactProfile`.
    """
    timestamp = _require_aware(message.timestamp, "message.timestamp")

    def fitted(value: str | None, field: str) -> str:
        """Meta's value cut to its column. An over-long wamid keeps its start and a digest of the
        whole, so it stays unique and Meta's retry of it is still recognised."""
        value = value or ""
        limit = Message._meta.get_field(field).max_length
        if len(value) <= limit:
            return value
        if field not in ("wamid", "context_wamid"):
            return value[:limit]
        import hashlib

        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{value[: limit - len(digest) - 1]}~{digest}"

    wamid = fitted(message.id, "wamid")
    if Message.objects.filter(wamid=wamid).exists():
        return None
    contact = contact_for_identity(
        wa_id=message.from_wa_id or (profile.wa_id if profile else None),
        user_id=message.from_user_id or (profile.user_id if profile else None),
        name=(profile.name if profile else "") or "",
        username=(getattr(profile, "username", "") if profile else "") or "",
    )
    # Lock the contact before the thread, always: a profile update and a STOP keyword for the
    # same customer arriving at once would otherwise take the two locks in opposite orders.
    Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
    conversation = _conversation_locked(number=number, contact=contact)

    quoted_wamid = fitted(message.reaction_to if message.type == "reaction" else message.context_id, "context_wamid")
    reply_to = None
    if quoted_wamid:
        reply_to = Message.objects.filter(conversation=conversation, wamid=quoted_wamid).first()
    media = getattr(message, "media", None)
    fields: dict[str, Any] = {
        "conversation": conversation,
        "direction": Message.Direction.IN,
        "type": message.type,
        "text": message.text or "",
        "payload": getattr(message, "raw", None) or {},
        "wamid": wamid,
        "status": Message.Status.RECEIVED,
        "sent_at": timestamp,
        "context_wamid": quoted_wamid or "",
        "reply_to": reply_to,
    }
    if media is not None:
        fields.update(
            media_id=fitted(media.id, "media_id"),
            media_mime_type=fitted(media.mime_type, "media_mime_type"),
            media_filename=fitted(getattr(media, "filename", ""), "media_filename"),
            media_state=Message.MediaState.PENDING,
        )
    try:
        # The wamid constraint is the real dedupe: a concurrent replay loses here, quietly.
        with transaction.atomic():
            stored = Message.objects.create(**fields)
    except IntegrityError:
        if Message.objects.filter(wamid=wamid).exists():
            return None
        raise

    changed = ["updated_at"]
    if window.renews_window(message.type) and (
        conversation.last_inbound_at is None or timestamp > conversation.last_inbound_at
    ):
        # Only forward and only by Meta's clock: a late webhook cannot reopen a closed window.
        conversation.last_inbound_at = timestamp
        changed.append("last_inbound_at")
    if conversation.last_message_at is None or timestamp > conversation.last_message_at:
        conversation.last_message_at = timestamp
        changed.append("last_message_at")
    if message.type not in NON_UNREAD_TYPES:
        conversation.unread_count += 1
        changed.append("unread_count")
        # A customer writing again needs an answer: resolved threads reopen, snoozed ones wake,
        # and "pending" (waiting for the customer) is over.
        if conversation.status != Conversation.Status.OPEN:
            conversation.status = Conversation.Status.OPEN
            conversation.snoozed_until = None
            changed += ["status", "snoozed_until"]
    conversation.save(update_fields=changed)

    if _message_asks_opt_out(message):
        source = Contact.OptOutSource.KEYWORD if message.type == "text" else Contact.OptOutSource.BUTTON
        contact_opt_out(contact=contact, source=source, at=timestamp)

    events.message_changed(stored, created=True)
    events.conversation_changed(conversation)
    return stored


def _lock_wamid(wamid: str) -> None:
    """Serialise "is this wamid ours?" with "record this wamid" until the transaction ends.

    A status webhook can race the delivery task that stores the wamid Meta returned; with this
    lock either the status sees the stored wamid, or the task sees the parked status.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [wamid])


@transaction.atomic
def message_status_apply(*, status: Any) -> Message | None:
    """Apply Meta's status webhook to our outbound message.

    Returns None when no message has this wamid yet: the status is parked (EarlyStatus) and
    applied when the delivery task records the wamid, since Meta's webhook can beat our commit.
    """
    timestamp = _require_aware(status.timestamp, "status.timestamp")
    _lock_wamid(status.id)
    message = (
        Message.objects.select_for_update(no_key=True)
        .select_related("conversation")
        .filter(wamid=status.id, direction=Message.Direction.OUT)
        .first()
    )
    if message is None:
        if getattr(status, "raw", None):
            EarlyStatus.objects.get_or_create(wamid=status.id, status=status.status, defaults={"raw": status.raw})
        return None
    new = status.status
    changed: list[str] = []
    time_field = STATUS_TIME_FIELD.get(new)
    # Each step's time is recorded even when it arrives late (read before delivered).
    if time_field and getattr(message, time_field) is None:
        setattr(message, time_field, timestamp)
        changed.append(time_field)

    if new == Message.Status.FAILED:
        # A failure after the phone showed the message is not believable; otherwise it is final.
        if message.status != Message.Status.FAILED and STATUS_RANK.get(message.status, 0) < STATUS_RANK["delivered"]:
            error = status.errors[0] if status.errors else None
            message.status = Message.Status.FAILED
            message.error_code = getattr(error, "code", None)
            message.error_title = (getattr(error, "title", "") or getattr(error, "message", "") or "")[:255]
            message.error_details = getattr(error, "details", "") or getattr(error, "message", "") or ""
            changed += ["status", "error_code", "error_title", "error_details"]
            _refusal_meaning_apply(message.conversation, message.error_code, at=timestamp)
    elif (
        new in STATUS_RANK
        and message.status != Message.Status.FAILED
        and STATUS_RANK[new] > STATUS_RANK.get(message.status, -1)
    ):
        message.status = new
        changed.append("status")
    if changed:
        message.save(update_fields=changed)
        events.message_changed(message)
    if "status" in changed and message.status == Message.Status.FAILED:
        _after_failure(message, code=message.error_code, at=timestamp)
    elif new != Message.Status.FAILED:
        from billing import services as billing

        # Meta's own word on what the message cost: the first `pricing` sets the record, later
        # ones confirm; a delivery without one still tells billing it was delivered. The raw
        # object is passed on whole, so fields we do not know are kept.
        raw = (getattr(status, "raw", None) or {}).get("pricing")
        pricing = raw if isinstance(raw, dict) else (status.pricing.model_dump() if status.pricing else None)
        billing.billing_status_apply(message_id=message.pk, status=new, pricing=pricing, at=timestamp)
    return message


def _window_close(*, conversation: Conversation, at: datetime) -> None:
    """Meta said 131047: the window is closed whatever we computed (until the customer writes)."""
    locked = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    if locked.window_closed_at is None or at > locked.window_closed_at:
        locked.window_closed_at = at
        locked.save(update_fields=["window_closed_at", "updated_at"])
        events.conversation_changed(locked)
    conversation.window_closed_at = locked.window_closed_at


@transaction.atomic
def contact_preference_apply(*, preference: Any) -> Contact | None:
    """Meta's `user_preferences` webhook: the customer stopped or resumed marketing in WhatsApp."""
    at = _require_aware(preference.timestamp, "preference.timestamp")
    wa_id, user_id = preference.wa_id or "", preference.user_id or ""
    if preference.value == "stop":
        if not wa_id and not user_id:
            return None
        # A stop from someone we never talked to is still remembered for future marketing.
        contact = contact_for_identity(wa_id=wa_id, user_id=user_id)
        contact_opt_out(contact=contact, source=Contact.OptOutSource.PREFERENCES, at=at)
        return contact
    contact = _contact_find(wa_id=wa_id.lstrip("+"), user_id=user_id)
    if contact is None:
        return None
    if preference.value == "resume":
        contact_opt_in(contact=contact, at=at)
    return contact


# --- agents: sending --------------------------------------------------------------------------

MAX_TEXT_LENGTH = 4096  # Meta's limit for a text body
MAX_CAPTION_LENGTH = 1024
# Meta's size limits per media kind (cloud-api.md 2.4).
MEDIA_LIMITS = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "audio": 16 * 1024 * 1024}
DOCUMENT_LIMIT = 100 * 1024 * 1024
MEDIA_KINDS = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/3gpp"),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
}


def _now(now: datetime | None) -> datetime:
    return _require_aware(now, "now") if now is not None else timezone.now()


def _conversation_for_update(conversation: Conversation) -> Conversation:
    # Re-read under lock: the window and the status are decided on the row as it is now.
    return (
        Conversation.objects.select_for_update(no_key=True).select_related("number", "contact").get(pk=conversation.pk)
    )


def _check_can_send(conversation: Conversation, *, now: datetime, needs_window: bool = True) -> None:
    if conversation.number.stopped_at is not None:
        raise ConversationError(
            _("Sending from this number is stopped: %(reason)s") % {"reason": conversation.number.stopped_reason}
        )
    if needs_window and not conversation.window_open(now):
        raise WindowClosed(conversation.window_expires_at())


def _bill(message: Message, *, now: datetime) -> None:
    """The billing record of a chargeable message, in the same transaction as the message.

    billing owns every pricing rule; it decides whether this message costs anything, and
    refuses it when the number's budget would be overshot (the whole send rolls back).
    """
    from billing import exceptions as billing_errors
    from billing import services as billing

    try:
        billing.billing_record_for_message(message=message, now=now)
    except billing_errors.BudgetExceeded as exc:
        raise BudgetExceeded(str(exc), remaining=str(exc.remaining), currency=exc.currency) from exc


def _existing_for_client_id(*, sender, client_id, conversation: Conversation) -> Message | None:
    """The message this sender already recorded under client_id (a retried send), if any."""
    if client_id is None or sender is None:
        return None
    existing = Message.objects.filter(sender=sender, client_id=client_id).first()
    if existing is not None and existing.conversation_id != conversation.pk:
        raise ConversationError(_("This client_id was already used for a message in another conversation."))
    return existing


def _record_outbound(*, conversation: Conversation, sender, now: datetime, client_id=None, **fields: Any) -> Message:
    """Save the outbound message as queued and schedule its delivery after commit."""

    create = {
        "conversation": conversation,
        "direction": Message.Direction.OUT,
        "sender": sender,
        "status": Message.Status.QUEUED,
        **fields,
    }
    if client_id is not None:
        create["client_id"] = client_id
    message = Message.objects.create(**create)
    _bill(message, now=now)
    conversation.last_message_at = max(filter(None, [conversation.last_message_at, now]))
    # Answering the customer means the agent has read the thread.
    conversation.unread_count = 0
    conversation.save(update_fields=["last_message_at", "unread_count", "updated_at"])
    # The publish only wakes a worker: if it is lost (Redis down, a worker killed with it
    # prefetched), the message is still queued in the table and the sweep sends it, once.
    transaction.on_commit(lambda: _wake_delivery(message.pk), robust=True)
    events.message_changed(message, created=True)
    events.conversation_changed(conversation)
    return message


def _wake_delivery(message_id: int) -> None:
    from conversations import tasks

    try:
        tasks.message_deliver.delay(message_id)
    except Exception as exc:  # the broker is down: the message waits in the table for the sweep
        log.warning("message %s queued; delivery not published (%s), the sweep will send it", message_id, exc)


# A queued message this old was not taken by any worker (its publish was lost). Messages that
# wait for a retry after a transient error were claimed recently and are left to their retry.
RETRY_WAIT_AT_MOST = timedelta(minutes=6)


def messages_queued_unclaimed(*, now: datetime, limit: int = 500) -> list[int]:
    """Ids of queued messages no worker is about to send (uses the msg_queued_idx index).

    "Unclaimed" means older than DELIVERY_SWEEP_AFTER_SECONDS (default 60) without a claim.
    """
    now = _require_aware(now, "now")
    unclaimed_after = timedelta(seconds=getattr(settings, "DELIVERY_SWEEP_AFTER_SECONDS", 60))
    return list(
        Message.objects.filter(status=Message.Status.QUEUED, created_at__lt=now - unclaimed_after)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RETRY_WAIT_AT_MOST))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def _client_uuid(client_id) -> uuid.UUID | None:
    """The sender's idempotency key; a missing or malformed one just means "no key" (a fresh message)."""
    if client_id in (None, ""):
        return None
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        return None


def _send_transaction(*, savepoint: bool):
    """The send's transaction: the caller's when it has one (a savepoint only when asked), else a new one.

    A savepoint is only needed where an error is recovered from inside the send: a client_id
    that collides on its unique index (a racing retry) is answered with the other's message.
    """
    if connection.in_atomic_block and not savepoint:
        return nullcontext()
    return transaction.atomic()


def _send(
    *,
    conversation: Conversation,
    sender,
    client_id,
    now: datetime | None,
    needs_window: bool = True,
    already_locked: bool = False,
    check: Callable[[Conversation], None] | None = None,
    **fields: Any,
) -> Message:
    """`already_locked`: the caller locked `conversation` in this transaction, its number and
    contact loaded (conversation_get_or_create), so it is not read again. `check(locked)` may
    refuse the send on the locked thread (its contact as it is now)."""
    now = _now(now)
    client_id = _client_uuid(client_id)
    existing = _existing_for_client_id(sender=sender, client_id=client_id, conversation=conversation)
    if existing is not None:
        # A retried request (double click, network retry): the first one stands, nothing is sent twice.
        return existing
    try:
        with _send_transaction(savepoint=client_id is not None):
            locked = conversation if already_locked else _conversation_for_update(conversation)
            # Refusals come before any write: the caller's transaction stays usable after one.
            _check_can_send(locked, now=now, needs_window=needs_window)
            if check is not None:
                check(locked)
            # No savepoint: an error from here on (a budget refusal) leaves the caller's
            # transaction only to be rolled back, so half a send (a message without its billing
            # record) can never be committed.
            with transaction.atomic(savepoint=False):
                return _record_outbound(conversation=locked, sender=sender, now=now, client_id=client_id, **fields)
    except IntegrityError:
        # The same client_id raced in from a second request; that one won.
        existing = _existing_for_client_id(sender=sender, client_id=client_id, conversation=conversation)
        if existing is None:
            raise
        return existing


def _clean_text(text: str, *, limit: int, what: str) -> str:
    # PostgreSQL text cannot hold NUL; it would fail the INSERT with a 500.
    if "\x00" in text:
        raise ConversationError(_("The %(what)s contains a character that cannot be sent.") % {"what": what})
    if len(text) > limit:
        raise ConversationError(
            _("The %(what)s is %(length)d characters long; WhatsApp allows %(limit)d.")
            % {"what": what, "length": len(text), "limit": limit}
        )
    return text


@transaction.atomic
def message_send_text(
    *,
    conversation: Conversation,
    sender,
    text: str,
    reply_to: Message | None = None,
    client_id=None,
    now: datetime | None = None,
) -> Message:
    """Queue a free-form text reply; raises WindowClosed outside the customer service window."""

    body = canned_expand(text=text or "").strip()
    if not body:
        raise ConversationError(_("Write a message first."))
    _clean_text(body, limit=MAX_TEXT_LENGTH, what=_("message"))
    if reply_to is not None and (reply_to.conversation_id != conversation.pk or not reply_to.wamid):
        raise NotAllowed(_("You can only quote a message of this conversation that reached WhatsApp."))
    return _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        type="text",
        text=body,
        reply_to=reply_to,
        context_wamid=reply_to.wamid if reply_to else "",
    )


# No atomic block (or savepoint) of its own: the template is read first, then _send runs the
# lock, the checks and the writes in the caller's transaction, or in one of its own.
def message_send_template(
    *,
    conversation: Conversation,
    sender,
    template: str,
    language: str,
    parameters: dict | None = None,
    client_id=None,
    now: datetime | None = None,
    conversation_locked: bool = False,
) -> Message:
    """Queue an approved template; allowed inside and outside the customer service window.

    Refuses a template not approved both by a second admin and by Meta (or paused, disabled),
    parameters that do not fit it (every problem listed), marketing to a customer who opted
    out, and a paid message the number's budget cannot cover. The message stores the template's
    name, language, category at send time and the text the customer sees.
    `conversation_locked`: the caller already holds the thread's lock in this transaction, with
    its number and contact read in it (conversation_get_or_create after contact_for_identity).
    """
    from templates_app import exceptions as template_errors
    from templates_app.selectors import template_prepare_send

    try:
        prepared = template_prepare_send(
            waba_id=conversation.number.waba_id, name=template, language=language or "", parameters=parameters
        )
    except template_errors.TemplateNotApproved as exc:
        raise TemplateNotApproved(template, str(exc)) from exc
    except template_errors.InvalidParameters as exc:
        raise InvalidTemplateParameters(exc.problems) from exc

    def refuse_opted_out(locked: Conversation) -> None:
        # Decided on the contact read with the thread's lock, not on an earlier copy.
        if prepared.category == "MARKETING" and locked.contact.marketing_opted_out:
            raise OptedOut()

    return _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        needs_window=False,
        already_locked=conversation_locked,
        check=refuse_opted_out,
        type="template",
        text=prepared.text,
        template_name=prepared.name,
        template_language=prepared.language,
        template_parameters=prepared.parameters,
        template_category=prepared.category,
        payload={"template": {"components": prepared.send_components}},
    )


_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


def _base_mime_type(mime_type: str) -> str:
    """`type/subtype` from what the browser claimed; anything odd becomes a plain binary file."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return base if _MIME.fullmatch(base) else "application/octet-stream"


def media_kind_for(mime_type: str) -> str:
    base = (mime_type or "").split(";")[0].strip().lower()
    for kind, types in MEDIA_KINDS.items():
        if base in types:
            return kind
    return "document"


@transaction.atomic
def message_send_media(
    *,
    conversation: Conversation,
    sender,
    content: bytes,
    mime_type: str,
    filename: str,
    caption: str = "",
    client_id=None,
    now: datetime | None = None,
) -> Message:
    """Queue a media reply. The file is stored now; the task uploads it to Meta, then sends it."""

    if not content:
        raise ConversationError(_("The file is empty."))
    mime_type = _base_mime_type(mime_type)
    kind = media_kind_for(mime_type)
    limit = MEDIA_LIMITS.get(kind, DOCUMENT_LIMIT)
    if len(content) > limit:
        raise ConversationError(
            _("The file is too large for WhatsApp (%(size)d MB at most for this kind).") % {"size": limit // 2**20}
        )
    caption = _clean_text(caption.strip(), limit=MAX_CAPTION_LENGTH, what=_("caption"))
    safe_name = re.sub(r"[^\w.\- ]", "_", filename or "file")[:200] or "file"
    message = _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        type=kind,
        text=caption,
        media_mime_type=mime_type,
        media_filename=safe_name,
    )
    if not message.media_file:
        message.media_file.save(safe_name, ContentFile(content), save=False)
        message.media_state = Message.MediaState.STORED
        message.save(update_fields=["media_file", "media_state"])
    return message


@transaction.atomic
def message_react(
    *, conversation: Conversation, sender, message: Message, emoji: str, now: datetime | None = None
) -> Message:
    """React to a message of the thread (an empty emoji removes our reaction)."""

    if message.conversation_id != conversation.pk or not message.wamid:
        raise NotAllowed(_("You can only react to a message of this conversation that reached WhatsApp."))
    return _send(
        conversation=conversation,
        sender=sender,
        client_id=None,
        now=now,
        type="reaction",
        text=emoji or "",
        reply_to=message,
        context_wamid=message.wamid,
    )


@transaction.atomic
def note_add(*, conversation: Conversation, author, text: str) -> Message:
    """A private note for colleagues in the thread; never sent to the customer."""

    body = (text or "").strip()
    if not body:
        raise ConversationError(_("Write a note first."))
    _clean_text(body, limit=MAX_TEXT_LENGTH, what=_("note"))
    note = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        type="note",
        text=body,
        status=Message.Status.NOTE,
        sender=author,
    )
    # A note is activity on the thread: the list row shows it as the latest, so the list orders
    # by its time too. A conditional UPDATE: never moves the time back, needs no lock.
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(last_message_at__isnull=True) | Q(last_message_at__lt=note.created_at)
    ).update(last_message_at=note.created_at, updated_at=note.created_at)
    if conversation.last_message_at is None or conversation.last_message_at < note.created_at:
        conversation.last_message_at = note.created_at
    events.message_changed(note, created=True)
    return note


# --- delivery (called by conversations.tasks.message_deliver) --------------------------------


def message_claim(*, message_id: int) -> bool:
    """Take a queued message for sending; False if another worker has it or it moved on.

    A single conditional UPDATE is the lock: of two runs of the same task, exactly one sees
    one row changed, so a message reaches Meta at most once per claim.
    """
    return (
        Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claimed_at=timezone.now()
        )
        == 1
    )


# The claim of `message_claim`, returning the claimed row. Written out because it runs once per
# send: compiling the ORM's select_related query cost more CPU than the rest of a delivery's SQL.
_CLAIM_RETURNING = (
    "UPDATE conversations_message SET status = %s, claimed_at = %s WHERE id = %s AND status = %s RETURNING *"
)


def message_claim_loaded(*, message_id: int) -> Message | None:
    """`message_claim`, returning the claimed message with what sending reads (its thread, the
    thread's number and contact); None if it was not queued."""
    claimed = list(
        Message.objects.raw(
            _CLAIM_RETURNING, [Message.Status.SENDING, timezone.now(), message_id, Message.Status.QUEUED]
        )
    )
    if not claimed:
        return None
    message = claimed[0]
    message.conversation = Conversation.objects.select_related("number", "contact").get(pk=message.conversation_id)
    return message


@transaction.atomic
def message_media_uploaded(*, message_id: int, media_id: str) -> None:
    """Remember Meta's media id so a retried send does not upload the file again."""
    Message.objects.filter(pk=message_id).update(media_id=media_id)


@transaction.atomic
def message_sent_record(
    *, message_id: int, wamid: str, payload: dict, message: Message | None = None
) -> Message | None:
    """Meta accepted the message: store its wamid (status webhooks find it by that).

    `message` is the claimed message as the sender holds it (with its thread), which saves
    loading it again; its fields are brought up to date.
    """
    _lock_wamid(wamid)
    stored = _wamid_store(message_id=message_id, wamid=wamid, payload=payload)
    if stored is None:
        return None
    status, early_waiting = stored
    if message is None:
        message = Message.objects.select_related("conversation").get(pk=message_id)
    else:
        message.wamid, message.payload, message.error_title, message.status = wamid, payload, "", status
    # The UPDATE stands in for message.save(): its receivers (a sender's delivery callbacks, a
    # campaign's progress) hear of it as they would of the save.
    post_save.send(
        sender=Message,
        instance=message,
        created=False,
        update_fields=frozenset(["wamid", "payload", "error_title", "status"]),
        raw=False,
        using=connection.alias,
    )
    events.message_changed(message)
    if early_waiting and _apply_early_statuses(wamid):
        message.refresh_from_db()  # the parked statuses moved it on
    return message


def _wamid_store(*, message_id: int, wamid: str, payload: dict) -> tuple[str, bool] | None:
    """One statement: the wamid and the payload sent, sending -> sent (a status that moved
    further meanwhile stays), a retry's note cleared; returns the status and whether statuses
    for this wamid are parked, or None if the message is gone."""
    payload_column = Message._meta.get_field("payload")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_message"
            " SET wamid = %s, payload = %s, error_title = '',"
            " status = CASE WHEN status = %s THEN %s ELSE status END"
            " WHERE id = %s"
            " RETURNING status, EXISTS (SELECT 1 FROM conversations_earlystatus WHERE wamid = %s)",
            [
                wamid,
                payload_column.get_db_prep_save(payload, connection),
                Message.Status.SENDING,
                Message.Status.SENT,
                message_id,
                wamid,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], bool(row[1]))


# A status parked longer than this was not a race with our own send: it belongs to a message
# sent by another tool on the same number (or one we lost), and is dropped.
EARLY_STATUS_KEEP = timedelta(days=2)


def early_statuses_purge(*, now: datetime) -> int:
    """Drop parked statuses that no message of ours claimed in time; returns how many."""
    deleted, _ = EarlyStatus.objects.filter(received_at__lt=now - EARLY_STATUS_KEEP).delete()
    return deleted


def _apply_early_statuses(wamid: str) -> bool:
    """Statuses Meta posted before we stored this wamid, applied now in the order they happened;
    whether there were any."""
    from whatsapp.schemas import Status

    early = list(EarlyStatus.objects.filter(wamid=wamid))
    if not early:
        return False
    parsed = []
    for row in early:
        try:
            parsed.append(Status.from_wire(row.raw))
        except ValueError:  # pydantic's ValidationError: the part was stored, but is unreadable
            log.warning("early status %s for %s could not be read again; dropped", row.status, wamid)
    for status in sorted(parsed, key=lambda s: (s.timestamp, STATUS_RANK.get(s.status, 9))):
        message_status_apply(status=status)
    EarlyStatus.objects.filter(pk__in=[row.pk for row in early]).delete()
    return True


@transaction.atomic
def message_requeue(*, message_id: int, note: str = "") -> None:
    """A transient failure: back to queued so the retried task can claim it again.

    `note` says why it waits (shown in the thread under the queued message until it is sent).
    """
    updated = Message.objects.filter(pk=message_id, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED, error_title=note[:255]
    )
    if updated and note:
        events.message_changed(Message.objects.select_related("conversation").get(pk=message_id))


@transaction.atomic
def message_send_failed(
    *,
    message_id: int,
    reason: str,
    code: int | None = None,
    title: str = "",
    stops_channel: bool = False,
    now: datetime | None = None,
) -> Message:
    """The message will not be sent: keep Meta's code and a reason the agent can read."""
    now = _now(now)
    message = (
        Message.objects.select_for_update(no_key=True)
        .select_related("conversation__number", "conversation__contact")
        .get(pk=message_id)
    )
    message.status = Message.Status.FAILED
    message.failed_at = now
    message.error_code = code
    message.error_title = (title or str(reason))[:255]
    message.error_details = str(reason)
    message.save(update_fields=["status", "failed_at", "error_code", "error_title", "error_details"])
    conversation = message.conversation
    _refusal_meaning_apply(conversation, code, at=now)
    if stops_channel:
        BusinessNumber.objects.filter(pk=conversation.number_id, stopped_at__isnull=True).update(
            stopped_at=now, stopped_reason=str(reason)[:255]
        )
    _after_failure(message, code=code, at=now)
    events.message_changed(message)
    return message


def _refusal_meaning_apply(conversation: Conversation, code: int | None, *, at: datetime) -> None:
    """What Meta's refusal says beyond the message: the window is closed, or the customer
    stopped marketing from this business."""
    meaning = errors.classify(code) if code is not None else None
    if meaning is None:
        return
    if meaning.closes_window:
        _window_close(conversation=conversation, at=at)
    elif meaning.stops_marketing:
        contact_opt_out(contact=conversation.contact, source=Contact.OptOutSource.META_ERROR, at=at)


def _after_failure(message: Message, *, code: int | None, at: datetime) -> None:
    """A message that will never be delivered costs nothing; a refusal that says the template
    itself is paused or disabled since we checked it is applied to the template, so nobody
    else picks it."""
    from billing import services as billing

    billing.billing_status_apply(message_id=message.pk, status=Message.Status.FAILED, pricing=None, at=at)
    if message.type == "template" and code is not None and errors.classify(code).stops_template:
        from templates_app import services as templates

        templates.template_send_error_apply(
            waba_id=message.conversation.number.waba_id,
            name=message.template_name,
            language=message.template_language,
            code=code,
            now=at,
        )


def may_have_been_delivered_reason() -> str:
    """Why a message is failed when nobody knows whether Meta accepted it."""
    return _(
        "WhatsApp did not answer in time, so this message may or may not have reached the "
        "customer. It was not sent again automatically; check with the customer before resending."
    )


# A claim lasts one task run (time limit 120 s); one older than this lost its worker.
STUCK_SENDING_AFTER = timedelta(minutes=10)


def messages_stuck_sending_fail(*, now: datetime) -> int:
    """Fail messages whose delivery task died between claiming them and hearing from Meta.

    Sending again could reach the customer twice, so they are failed with an honest reason
    instead of showing "sending" forever.
    """
    stuck = list(
        Message.objects.filter(
            status=Message.Status.SENDING, claimed_at__lt=_require_aware(now, "now") - STUCK_SENDING_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    for message_id in stuck:
        message_send_failed(
            message_id=message_id, title=_("No answer from WhatsApp"), reason=may_have_been_delivered_reason(), now=now
        )
    return len(stuck)


# --- agents: thread state ---------------------------------------------------------------------


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, user) -> None:
    """The agent read the thread: clear the unread count and send Meta's read receipt (blue ticks)."""
    from conversations import tasks

    locked = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    if locked.unread_count == 0:
        return  # nothing new since the last receipt; opening a thread again does not call Meta
    locked.unread_count = 0
    locked.save(update_fields=["unread_count", "updated_at"])
    conversation.unread_count = 0
    latest = (
        Message.objects.filter(conversation=locked, direction=Message.Direction.IN, wamid__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is not None:
        tasks.message_read_receipt.delay_on_commit(latest)
    events.conversation_changed(locked)


def _may_work_number(user, number_id: int) -> bool:
    from conversations.selectors import numbers_for_user
    from inbox.roles import perm

    return user.is_active and user.has_perm(perm("work_inbox")) and numbers_for_user(user).filter(pk=number_id).exists()


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, by) -> Conversation:
    """Assign the thread to an agent of its number (or to nobody with assignee=None)."""

    if assignee is not None and not _may_work_number(assignee, conversation.number_id):
        # Generic on purpose: naming the user would let anyone enumerate usernames by id.
        raise NotAllowed(_("That person does not work this number's inbox."))
    locked = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    previous = locked.assignee_id
    new = assignee.pk if assignee is not None else None
    if previous != new:
        locked.assignee_id = new
        locked.save(update_fields=["assignee", "updated_at"])
        events.conversation_changed(locked, previous_assignee_id=previous)
    conversation.assignee_id = locked.assignee_id
    conversation.assignee = assignee
    return locked


@transaction.atomic
def conversation_status_set(
    *, conversation: Conversation, status: str, by, snooze_until: datetime | None = None, now: datetime | None = None
) -> Conversation:
    """Open, pending (waiting for the customer), resolved, or snoozed until a time in the future."""

    now = _now(now)
    if status not in Conversation.Status.values:
        raise ConversationError(_("Unknown status %(status)s.") % {"status": status})
    if status == Conversation.Status.SNOOZED:
        if snooze_until is None:
            raise ConversationError(_("Choose until when to snooze."))
        if _require_aware(snooze_until, "snooze_until") <= now:
            raise ConversationError(_("Snooze until a time in the future."))
        if snooze_until > now + MAX_SNOOZE:
            # Also keeps dates like 9999-12-31 (year 10000 in UTC) out of the database, where
            # reading them back would fail for every page and webhook touching this thread.
            raise ConversationError(_("Snooze for a year at most."))
    else:
        snooze_until = None
    locked = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    if (locked.status, locked.snoozed_until) != (status, snooze_until):
        locked.status = status
        locked.snoozed_until = snooze_until
        locked.save(update_fields=["status", "snoozed_until", "updated_at"])
        events.conversation_changed(locked)
    conversation.status, conversation.snoozed_until = locked.status, locked.snoozed_until
    return locked


@transaction.atomic
def conversations_wake_snoozed(*, now: datetime | None = None) -> int:
    """Reopen snoozed threads whose time has come (run by beat every minute)."""
    now = _now(now)
    due = list(
        Conversation.objects.select_for_update(no_key=True, skip_locked=True).filter(
            status=Conversation.Status.SNOOZED, snoozed_until__lte=now
        )
    )
    for conversation in due:
        conversation.status = Conversation.Status.OPEN
        conversation.snoozed_until = None
        conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
        events.conversation_changed(conversation)
    return len(due)


def _label_name(name: str) -> str:

    clean = " ".join((name or "").replace("\x00", "").split())[:50]
    if not clean:
        raise ConversationError(_("A label needs a name."))
    return clean


@transaction.atomic
def conversation_label_add(*, conversation: Conversation, name: str, by) -> Label:
    clean = _label_name(name)
    label = Label.objects.filter(name__iexact=clean).first()
    if label is None:
        try:
            with transaction.atomic():
                label = Label.objects.create(name=clean)
        except IntegrityError:
            label = Label.objects.get(name=clean)
    conversation.labels.add(label)
    events.conversation_changed(conversation)
    return label


@transaction.atomic
def conversation_label_remove(*, conversation: Conversation, name: str, by) -> None:
    label = Label.objects.filter(name__iexact=_label_name(name)).first()
    if label is not None:
        conversation.labels.remove(label)
        events.conversation_changed(conversation)


# --- canned responses -------------------------------------------------------------------------

_SHORTCUT = re.compile(r"^/([\w-]+)(?=\s|$)")


def canned_expand(*, text: str) -> str:
    """`/refund thanks!` -> the saved "refund" text followed by " thanks!"; unknown shortcuts stay."""
    match = _SHORTCUT.match(text or "")
    if match is None:
        return text
    canned = CannedResponse.objects.filter(shortcut=match.group(1).lower()).first()
    if canned is None:
        return text
    return canned.text + text[match.end() :]


@transaction.atomic
def canned_response_save(*, shortcut: str, text: str) -> CannedResponse:

    slug = slugify(shortcut.lstrip("/"))
    if not slug or not text.strip():
        raise ConversationError(_("A canned response needs a shortcut and a text."))
    canned, _created = CannedResponse.objects.update_or_create(shortcut=slug, defaults={"text": text.strip()})
    return canned


# --- agents: sending a failed message again -----------------------------------------------------


def message_retry_refusal(*, message: Message, now: datetime | None = None) -> str:
    """Why this failed message may not be sent again (empty when it may).

    Transient errors (Meta busy, unreachable) may be retried. Permanent ones are refused with
    Meta's reason, except 131047 (window closed: a new send re-checks the window) and 131049
    (held-back marketing: after its wait). A message that may have reached the customer can be
    sent again, but only after the agent was warned (see `message_retry_may_duplicate`).
    """
    now = _now(now)
    if message.direction != Message.Direction.OUT or message.status != Message.Status.FAILED:
        return _("Only a failed message can be sent again.")
    if message.type != "text":
        return _("Only a text message can be sent again from the thread; choose a template for the others.")
    if message.error_code is None:
        return ""
    kind = errors.classify(message.error_code)
    if kind.closes_window:
        return ""
    if kind.kind is errors.Kind.TRANSIENT:
        return ""
    if kind.defer_seconds and message.failed_at and now >= message.failed_at + timedelta(seconds=kind.defer_seconds):
        return ""
    return str(kind.reason or errors.reason_for(message.error_code))


def message_retry_may_duplicate(message: Message) -> bool:
    """True when WhatsApp never answered the send: the customer may already have this message."""
    from django.utils import translation

    if message.error_code is not None or message.wamid:
        return False
    reasons = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reasons.add(str(may_have_been_delivered_reason()))
    return message.error_details in reasons


def message_retry(*, message: Message, by, now: datetime | None = None) -> Message:
    """Send a failed text message again, as a new message (the failed one keeps its reason).

    Refused (NotAllowed) when Meta's error says it cannot succeed; WindowClosed when the window
    closed meanwhile. Callers warn before retrying a message `message_retry_may_duplicate` flags.
    """
    refusal = message_retry_refusal(message=message, now=now)
    if refusal:
        raise NotAllowed(refusal)
    conversation = Conversation.objects.select_related("number", "contact").get(pk=message.conversation_id)
    reply_to = message.reply_to if message.reply_to_id and message.reply_to and message.reply_to.wamid else None
    return message_send_text(conversation=conversation, sender=by, text=message.text, reply_to=reply_to, now=now)
