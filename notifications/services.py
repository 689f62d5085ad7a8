"""Notifications from business systems: a template to a phone number, sent exactly once.

`notification_send` finds or creates the customer and their thread with the business number
(so an agent sees the notification in context and a reply lands there), and sends through
the same `message_send_template` path as the inbox: approval, parameters, opt-out, budget and
the billing record in one transaction.

`notification_send_once` wraps it with the caller's `Idempotency-Key`: the key's record is
inserted in the same transaction as the message, so of two calls with one key (retried, or
racing from two processes) exactly one sends; the other waits for it on the key's row and then
returns its answer. The same key with a different body is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.db import connection, transaction
from django.utils.translation import gettext as _

from conversations import selectors as conversation_selectors
from conversations import services as conversations
from conversations.models import BusinessNumber, Message
from notifications.models import IdempotencyRecord


class NotificationError(Exception):
    """A refusal before anything is sent: `code` and `status` follow the API's contract."""

    def __init__(self, status: int, code: str, message: str, **details) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def request_hash(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def wa_id_for(to: str) -> str:
    """Meta's wa_id (digits, with country code) for a number as a shop system writes it."""
    raw = (to or "").strip()
    try:
        parsed = phonenumbers.parse(raw if raw.startswith("+") else f"+{raw}")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise NotificationError(
            422,
            "validation_error",
            _("“to” must be the customer's phone number with its country code, such as +4915112345678."),
            fields={"to": "invalid"},
        )
    return f"{parsed.country_code}{parsed.national_number}"


def number_for(*, user, phone_number_id: str | None) -> BusinessNumber:
    numbers = conversation_selectors.numbers_for_user(user)
    if phone_number_id:
        number = numbers.filter(phone_number_id=phone_number_id).first()
        if number is None:
            raise NotificationError(404, "not_found", _("No such business number, or not one you may send from."))
        return number
    candidates = list(numbers[:2])
    if len(candidates) != 1:
        raise NotificationError(
            422,
            "validation_error",
            _("Name the business number to send from (phone_number_id): you may send from several."),
            fields={"phone_number_id": "required"},
        )
    return candidates[0]


# No savepoint: a refusal rolls back the caller's transaction (notification_send_once's, with the
# key) or, called alone, this one; nobody goes on in a transaction after a refused notification.
@transaction.atomic(savepoint=False)
def notification_send(
    *,
    user,
    to: str,
    template: str,
    language: str,
    parameters: dict | None,
    phone_number_id: str | None = None,
    now: datetime | None = None,
) -> Message:
    number = number_for(user=user, phone_number_id=phone_number_id)
    contact = conversations.contact_for_identity(wa_id=wa_id_for(to), user_id=None)
    thread = conversations.conversation_get_or_create(number=number, contact=contact)
    # The thread is locked for this transaction and its number and contact were just read in it:
    # the sending path uses these instead of reading all three again.
    thread.number, thread.contact = number, contact
    return conversations.message_send_template(
        conversation=thread,
        sender=user,
        template=template,
        language=language,
        parameters=parameters,
        now=now,
        conversation_locked=True,
    )


def _record_claimed(*, user, key: str, digest: str) -> IdempotencyRecord:
    """The key's row, locked: ours if new; a concurrent caller's after it committed."""
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        # Blocks while another transaction holds an uncommitted row for the same key.
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, request_hash, created_at) VALUES (%s, %s, %s, now()) "
            "ON CONFLICT (user_id, key) DO NOTHING",
            [user.pk, key, digest],
        )
    return IdempotencyRecord.objects.select_for_update().get(user=user, key=key)


def notification_send_once(*, user, key: str | None, body: dict, render) -> Answer:
    """Send once per (user, key); `render(message)` makes the answer stored for replays."""
    with transaction.atomic():
        record = None
        if key:
            record = _record_claimed(user=user, key=key, digest=request_hash(body))
            if record.request_hash != request_hash(body):
                raise NotificationError(
                    422,
                    "validation_error",
                    _("This Idempotency-Key was used with a different request. Use a new key for a new request."),
                    fields={"Idempotency-Key": "reused"},
                )
            if record.response_body is not None:
                return Answer(record.response_status or 202, record.response_body, replayed=True)
        # A refusal (ConversationError) rolls back with the key: a retry runs again.
        message = notification_send(
            user=user,
            to=body.get("to", ""),
            template=body.get("template", ""),
            language=body.get("language", ""),
            parameters=body.get("parameters"),
            phone_number_id=body.get("phone_number_id"),
        )
        answer = Answer(202, render(message))
        if record is not None:
            record.message = message
            record.response_status, record.response_body = answer.status, answer.body
            record.save(update_fields=["message", "response_status", "response_body"])
        return answer


IDEMPOTENCY_KEEP = timedelta(hours=48)


def idempotency_records_purge(*, now: datetime) -> int:
    """Keys older than IDEMPOTENCY_KEEP (over the promised 24 hours) are forgotten."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP).delete()
    return deleted
