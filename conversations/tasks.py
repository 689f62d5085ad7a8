"""Thin tasks: ids in, services do the work. `message_deliver` is the "send" of record-then-send."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from celery import Task, shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import events, pacing, services
from conversations.models import Message
from whatsapp import outbound
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

log = logging.getLogger(__name__)

MAX_RETRIES = 6


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

_collecting = threading.local()


class _DeliveryTask(Task):
    """`message_deliver.delay(id)` joins the surrounding `deliveries_collected()` if there is one."""

    def delay(self, *args, **kwargs):
        ids = getattr(_collecting, "ids", None)
        if ids is not None and len(args) == 1 and not kwargs:
            ids.append(args[0])
            return None
        return super().delay(*args, **kwargs)


@contextmanager
def deliveries_collected():
    """Collect the deliveries the block publishes (on commit) instead of one task each; the
    caller hands the list to `messages_deliver` (one task for a campaign's batch of 25, not 25).
    If that publish is lost, the messages are still queued in the table and the sweep sends
    them (once, by the claim)."""
    outer = getattr(_collecting, "ids", None)
    if outer is not None:
        yield outer
        return
    _collecting.ids = ids = []
    try:
        yield ids
    finally:
        _collecting.ids = None


@shared_task(bind=True, base=_DeliveryTask, max_retries=MAX_RETRIES, acks_late=True, ignore_result=True)
def message_deliver(self, message_id: int, paced: bool = False) -> None:
    """Hand one queued outbound message to Meta, at most once.

    Safe to run twice (acks_late, a redelivered job, a double delay): only the run whose claim
    changes the row from queued to sending calls Meta.
    """
    outcome = _deliver(message_id, paced=paced, attempt=self.request.retries)
    if isinstance(outcome, _Retry):
        raise self.retry(exc=outcome.exc, countdown=outcome.countdown, kwargs={"paced": False}) from outcome.exc
    if isinstance(outcome, _Later):
        message_deliver.apply_async((message_id,), {"paced": True}, countdown=outcome.countdown)


@shared_task(acks_late=True, ignore_result=True)
def messages_deliver(message_ids: list[int]) -> int:
    """Hand several queued messages to Meta, one by one on the pacing line, each claimed alone
    (so a killed worker leaves at most the one in flight undecided). Their realtime events go
    out once for the batch. A message that must wait long or be retried continues as its own
    `message_deliver` task. Returns how many were sent."""
    sent = 0
    with events.batched():
        for message_id in sorted(message_ids):
            outcome = _deliver(message_id, paced=False, attempt=0)
            if isinstance(outcome, _Retry):
                message_deliver.apply_async((message_id,), countdown=outcome.countdown)
            elif isinstance(outcome, _Later):
                message_deliver.apply_async((message_id,), {"paced": True}, countdown=outcome.countdown)
            elif outcome is True:
                sent += 1
    return sent


@dataclass(frozen=True)
class _Retry:
    exc: CloudApiError
    countdown: float


@dataclass(frozen=True)
class _Later:
    countdown: float


def _deliver(message_id: int, *, paced: bool, attempt: int) -> bool | _Retry | _Later:
    """Claim, wait for the pacing slot, send and record one message; True when Meta took it."""
    message = services.message_claim_loaded(message_id=message_id)
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
        services.message_requeue(message_id=message_id)
        return _Later(wait)
    now = timezone.now()
    # The window is checked again now: a reply queued at 23:59:59 and picked up after the
    # window closed must not go out as a free-form message (Meta would refuse it with 131047,
    # or worse, the agent would believe it was sent).
    if message.type != "template" and not conversation.window_open(now):
        services.message_send_failed(
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
        services.message_send_failed(
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
            services.message_media_uploaded(message_id=message_id, media_id=media_id)
        payload = _payload(message, media_id=media_id)
        wamid = client.send_message(phone_number_id=phone_number_id, payload=payload)
    except CloudApiError as exc:
        if exc.maybe_delivered:
            # Meta may have accepted it: sending again could reach the customer twice.
            services.message_send_failed(
                message_id=message_id,
                title=_("No answer from WhatsApp"),
                reason=services.may_have_been_delivered_reason(),
            )
            return False
        if exc.transient and attempt < MAX_RETRIES:
            log.info("message %s: transient Cloud API error, retrying: %s", message_id, exc)
            services.message_requeue(message_id=message_id, note=_retry_note(exc, attempt + 1, MAX_RETRIES + 1))
            countdown = backoff_delay(attempt, base=2, cap=300)
            return _Retry(exc, max(countdown, pacing.refused(exc, pacing.line_for(conversation))))
        reason = exc.reason
        if exc.transient:
            reason = _("%(reason)s Tried %(attempts)d times since %(since)s; not sent.") % {
                "reason": exc.reason,
                "attempts": attempt + 1,
                "since": timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M %Z"),
            }
        services.message_send_failed(
            message_id=message_id,
            code=exc.code,
            title=exc.title,
            reason=reason,
            stops_channel=exc.stops_channel,
        )
        return False
    services.message_sent_record(message_id=message_id, wamid=wamid, payload=payload, message=message)
    return True


def _retry_note(exc: CloudApiError, attempt: int, attempts: int) -> str:
    """What the thread shows while a message waits for its next try."""
    what = _("WhatsApp could not be reached") if exc.unreachable else _("WhatsApp is busy")
    return _("%(what)s; trying again (attempt %(attempt)d of %(attempts)d).") % {
        "what": what,
        "attempt": attempt + 1,
        "attempts": attempts,
    }


@shared_task
def message_read_receipt(message_id: int) -> None:
    """Tell Meta the customer's message was read (blue ticks). Best effort: a lost receipt is harmless."""
    message = Message.objects.select_related("conversation__number").filter(pk=message_id).first()
    if message is None or not message.wamid:
        return
    try:
        get_client().mark_read(phone_number_id=message.conversation.number.phone_number_id, wamid=message.wamid)
    except CloudApiError as exc:
        log.info("read receipt for message %s not sent: %s", message_id, exc)


@shared_task
def conversations_wake_snoozed() -> int:
    """Run by beat: snoozed threads whose time has come reopen."""
    return services.conversations_wake_snoozed()


@shared_task
def early_statuses_purge() -> int:
    """Run by beat: parked statuses that no message of ours claimed are dropped."""
    return services.early_statuses_purge(now=timezone.now())


@shared_task
def messages_stuck_sending_fail() -> int:
    """Run by beat: claims whose worker died are failed with an honest reason (never resent)."""
    return services.messages_stuck_sending_fail(now=timezone.now())


@shared_task
def messages_deliver_queued() -> int:
    """Run by beat: queued messages whose delivery publish was lost are sent now (claimed, so once)."""
    ids = services.messages_queued_unclaimed(now=timezone.now())
    for message_id in ids:
        message_deliver.delay(message_id)
    return len(ids)
