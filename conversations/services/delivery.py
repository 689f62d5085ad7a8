"""Delivery, the "send" of record-then-send: a queued message is claimed (once), waits for its
pacing slot, is checked again (window, stopped number), handed to Meta with its media uploaded
first, and Meta's wamid is recorded; statuses that came before the wamid are applied then. A
transient failure is requeued for a retry, a final one recorded with Meta's reason, and claims
whose worker died are failed honestly (never sent again). Read receipts go to Meta from here too.

The app's Celery tasks only call in here with ids and act on the outcome (a retry, a later
try). The services reach those tasks through `workers_register`, filled when the app is ready,
so the dependency points one way: tasks -> services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import events, pacing
from conversations.models import BusinessNumber, Conversation, EarlyStatus, Message
from conversations.services._common import _now, _require_aware
from conversations.services.inbound import (
    STATUS_RANK,
    _after_failure,
    _lock_wamid,
    _refusal_meaning_apply,
    message_status_apply,
)
from whatsapp import outbound
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

log = logging.getLogger(__name__)

MAX_RETRIES = 6


# --- handing work to the workers ---------------------------------------------------------------
# A delivery and a read receipt run in a Celery worker. Which task carries each is the tasks
# module's business: `ConversationsConfig.ready` registers them here, so the services never
# import the tasks (which import the services).


def _not_registered(message_id: int) -> None:
    raise RuntimeError("no worker registered: ConversationsConfig.ready() has not run")


_workers: dict[str, Callable[[int], object]] = {"deliver": _not_registered, "read_receipt": _not_registered}


def workers_register(*, deliver: Callable[[int], object], read_receipt: Callable[[int], object]) -> None:
    """`deliver(message_id)` publishes a queued message's delivery; `read_receipt(message_id)`
    publishes a read receipt for when the current transaction commits."""
    _workers.update(deliver=deliver, read_receipt=read_receipt)


def delivery_wake(message_id: int) -> None:
    """Publish the delivery of a message recorded as queued (run after its commit)."""
    try:
        _workers["deliver"](message_id)
    except Exception as exc:  # the broker is down: the message waits in the table for the sweep
        log.warning("message %s queued; delivery not published (%s), the sweep will send it", message_id, exc)


def read_receipt_publish(message_id: int) -> None:
    """Send Meta the read receipt of this inbound message once the current transaction commits."""
    _workers["read_receipt"](message_id)


# --- claiming and recording --------------------------------------------------------------------


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


# --- sending one message (run by the delivery tasks) -------------------------------------------


def get_client():
    # Looked up at call time so tests can replace `whatsapp.client.get_client` (the one seam).
    from whatsapp import client

    return client.get_client()


def _recipient(message: Message) -> dict:
    contact = message.conversation.contact
    if contact.wa_id:
        return {"to": f"+{contact.wa_id}"}
    return {"to": None, "recipient_user_id": contact.user_id}


def _payload(message: Message, *, media_id: str = "") -> dict:
    to = _recipient(message)
    if message.type == "text":
        return outbound.text(body=message.text, reply_to=message.context_wamid or None, **to)
    if message.type == "reaction":
        return outbound.reaction(message_wamid=message.context_wamid, emoji=message.text, **to)
    if message.type == "template":
        return outbound.template(
            name=message.template_name,
            language=message.template_language,
            components=(message.payload or {}).get("template", {}).get("components"),
            **to,
        )
    return outbound.media(
        kind=message.type,
        media_id=media_id,
        caption=message.text,
        filename=message.media_filename,
        reply_to=message.context_wamid or None,
        **to,
    )


# A wait for the pacing slot up to this long is slept in the task; a longer one (a customer's
# pair limit) hands the message back to the queue with a countdown, keeping the worker free.
PACING_SLEEP_AT_MOST = 2.0


@dataclass(frozen=True)
class Retry:
    """A transient failure: the task tries again after `countdown` seconds."""

    exc: CloudApiError
    countdown: float


@dataclass(frozen=True)
class Later:
    """The pacing slot is far off: the task hands the message back with this countdown."""

    countdown: float


def message_deliver(*, message_id: int, paced: bool, attempt: int) -> bool | Retry | Later:
    """Claim, wait for the pacing slot, send and record one message; True when Meta took it.

    `attempt` counts the tries before this one; `paced`: the message is back from a long wait
    for its pacing slot.
    """
    message = message_claim_loaded(message_id=message_id)
    if message is None:  # another run has it, or it moved on
        return False
    conversation = message.conversation
    # The slot on the number's and the customer's pacing lines (shared through Redis), taken
    # after the claim so that nothing but building the request lies between the slot and the
    # send. A message back from a long wait (paced) already holds its place on the customer's
    # line; it takes only a fresh slot on the number's.
    line = pacing.line_for(conversation)
    if paced:
        line = pacing.Line(line.phone_number_id)
    wait = pacing.wait_for_slot(line, sleep_at_most=PACING_SLEEP_AT_MOST) if pacing.enabled() else 0.0
    if wait > 0:
        message_requeue(message_id=message_id)
        return Later(wait)
    now = timezone.now()
    # The window is checked again now: a reply queued at 23:59:59 and picked up after the
    # window closed must not go out as a free-form message (Meta would refuse it with 131047,
    # or worse, the agent would believe it was sent).
    if message.type != "template" and not conversation.window_open(now):
        message_send_failed(
            message_id=message_id,
            title=_("Customer service window closed"),
            reason=_(
                "Not sent: the 24-hour customer service window closed before the message could go out. "
                "Send an approved template instead."
            ),
            now=now,
        )
        return False
    if conversation.number.stopped_at is not None:
        message_send_failed(
            message_id=message_id,
            reason=_("Not sent: sending from this number is stopped (%(reason)s).")
            % {"reason": conversation.number.stopped_reason},
            now=now,
        )
        return False
    client = get_client()
    phone_number_id = conversation.number.phone_number_id
    try:
        media_id = message.media_id
        if message.type not in ("text", "reaction", "template") and not media_id:
            with message.media_file.open("rb") as handle:
                content = handle.read()
            media_id = client.upload_media(
                phone_number_id=phone_number_id,
                content=content,
                mime_type=message.media_mime_type,
                filename=message.media_filename,
            )
            message_media_uploaded(message_id=message_id, media_id=media_id)
        payload = _payload(message, media_id=media_id)
        wamid = client.send_message(phone_number_id=phone_number_id, payload=payload)
    except CloudApiError as exc:
        if exc.maybe_delivered:
            # Meta may have accepted it: sending again could reach the customer twice.
            message_send_failed(
                message_id=message_id,
                title=_("No answer from WhatsApp"),
                reason=may_have_been_delivered_reason(),
            )
            return False
        if exc.transient and attempt < MAX_RETRIES:
            log.info("message %s: transient Cloud API error, retrying: %s", message_id, exc)
            message_requeue(message_id=message_id, note=_retry_note(exc, attempt + 1, MAX_RETRIES + 1))
            countdown = backoff_delay(attempt, base=2, cap=300)
            return Retry(exc, max(countdown, pacing.refused(exc, pacing.line_for(conversation))))
        reason = exc.reason
        if exc.transient:
            reason = _("%(reason)s Tried %(attempts)d times since %(since)s; not sent.") % {
                "reason": exc.reason,
                "attempts": attempt + 1,
                "since": timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M %Z"),
            }
        message_send_failed(
            message_id=message_id,
            code=exc.code,
            title=exc.title,
            reason=reason,
            stops_channel=exc.stops_channel,
        )
        return False
    message_sent_record(message_id=message_id, wamid=wamid, payload=payload, message=message)
    return True


def _retry_note(exc: CloudApiError, attempt: int, attempts: int) -> str:
    """What the thread shows while a message waits for its next try."""
    what = _("WhatsApp could not be reached") if exc.unreachable else _("WhatsApp is busy")
    return _("%(what)s; trying again (attempt %(attempt)d of %(attempts)d).") % {
        "what": what,
        "attempt": attempt + 1,
        "attempts": attempts,
    }


def message_read_receipt(*, message_id: int) -> None:
    """Tell Meta the customer's message was read (blue ticks). Best effort: a lost receipt is harmless."""
    message = Message.objects.select_related("conversation__number").filter(pk=message_id).first()
    if message is None or not message.wamid:
        return
    try:
        get_client().mark_read(phone_number_id=message.conversation.number.phone_number_id, wamid=message.wamid)
    except CloudApiError as exc:
        log.info("read receipt for message %s not sent: %s", message_id, exc)
