"""Thin tasks of the campaigns app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from campaigns import live, services

# A task run sends this many batches, then hands over to a fresh run (so a pause, a deploy or a
# second worker takes effect between runs, and no run nears the task time limit).
BATCHES_PER_RUN = 20


@shared_task(acks_late=True)
def campaign_send(campaign_id: int) -> int:
    """Send a running campaign's pending recipients; several runs may share one campaign."""
    handled = 0
    for _ in range(BATCHES_PER_RUN):
        count = services.campaign_send_batch(campaign_id=campaign_id)
        if count == 0:
            return handled
        handled += count
    services.recipients_sync(campaign_id=campaign_id)
    campaign_send.delay(campaign_id)
    return handled


@shared_task(acks_late=True, ignore_result=True)
def campaign_deliver(campaign_id: int, message_ids: list[int]) -> int:
    """Deliver one batch of a campaign's messages (paced, each claimed alone); their status
    changes nudge the campaign's live page without looking the campaign up."""
    from conversations import tasks as delivery

    with live.sending_for(campaign_id):
        return delivery.messages_deliver.run(message_ids)


@shared_task
def campaigns_resume_running() -> int:
    """Beat: a running campaign whose sender task was lost (a killed worker, a lost publish) is
    woken again; claims with SKIP LOCKED make an extra run harmless."""
    ids = services.campaigns_with_pending()
    for campaign_id in ids:
        campaign_send.delay(campaign_id)
    return len(ids)


@shared_task
def campaigns_sync() -> int:
    """Beat: recipients follow their messages' statuses (sent, delivered, read, failed)."""
    return services.campaigns_sync_recent(now=timezone.now())
