"""Delivery: a queued message claimed (once), its media id and Meta's wamid recorded, statuses
that came before the wamid applied, a transient failure requeued, a final one recorded, and
claims whose worker died failed honestly (never sent again).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import events
from conversations.models import BusinessNumber, Conversation, EarlyStatus, Message
from conversations.services._common import _now, _require_aware
from conversations.services.inbound import (
    STATUS_RANK,
    _after_failure,
    _lock_wamid,
    _refusal_meaning_apply,
    message_status_apply,
)

log = logging.getLogger(__name__)


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
