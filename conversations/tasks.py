"""Thin tasks: ids in, services do the work. `message_deliver` is the "send" of record-then-send."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import pacing, services
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


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def message_deliver(self, message_id: int, paced: bool = False) -> None:
    """Hand one queued outbound message to Meta, at most once.

    Safe to run twice (acks_late, a redelivered job, a double delay): only the run whose claim
    changes the row from queued to sending calls Meta.
    """
    # The slot on the number's and the customer's pacing lines (shared through Redis) first.
    line = None if paced else pacing.line_for_message(message_id)
    if line is not None:
        wait = pacing.reserve(line)
        if wait > PACING_SLEEP_AT_MOST:
            message_deliver.apply_async((message_id,), {"paced": True}, countdown=wait)
            return
        if wait > 0:
            time.sleep(wait)
    if not services.message_claim(message_id=message_id):
        return
    message = Message.objects.select_related("conversation__number", "conversation__contact").get(pk=message_id)
    conversation = message.conversation
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
        return
    if conversation.number.stopped_at is not None:
        services.message_send_failed(
            message_id=message_id,
            reason=_("Not sent: sending from this number is stopped (%(reason)s).")
            % {"reason": conversation.number.stopped_reason},
            now=now,
        )
        return
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
            return
        attempt = self.request.retries + 1
        if exc.transient and self.request.retries < self.max_retries:
            log.info("message %s: transient Cloud API error, retrying: %s", message_id, exc)
            services.message_requeue(message_id=message_id, note=_retry_note(exc, attempt, self.max_retries + 1))
            countdown = backoff_delay(self.request.retries, base=2, cap=300)
            countdown = max(countdown, pacing.refused(exc.code, pacing.line_for(conversation)))
            raise self.retry(exc=exc, countdown=countdown, kwargs={"paced": False}) from exc
        reason = exc.reason
        if exc.transient:
            reason = _("%(reason)s Tried %(attempts)d times since %(since)s; not sent.") % {
                "reason": exc.reason,
                "attempts": attempt,
                "since": timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M %Z"),
            }
        services.message_send_failed(
            message_id=message_id,
            code=exc.code,
            title=exc.title,
            reason=reason,
            stops_channel=exc.stops_channel,
        )
        return
    services.message_sent_record(message_id=message_id, wamid=wamid, payload=payload)


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
