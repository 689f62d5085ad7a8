"""The campaign page's live progress: change notices, coalesced, to the page's websocket.

Whatever moves a recipient (the sender's batch, a delivery, Meta's status webhooks) calls
`progress_changed` after its commit. A notice is only a nudge ("look again"), never the
numbers: the socket re-reads the progress itself, so a lost or merged notice costs nothing
but a moment. Notices are coalesced twice: each campaign publishes at most one per
NOTICE_EVERY seconds (a Redis key shared by every process), and each socket pushes at most
one progress bar per PUSH_EVERY seconds and keeps looking for FOLLOW seconds after the last
notice, so a change that fell inside a quiet window still arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

log = logging.getLogger(__name__)

NOTICE_EVERY = 0.3  # seconds between two notices of one campaign, across processes
PUSH_EVERY = 0.5  # seconds between two progress bars pushed to one socket
FOLLOW = 0.8  # a socket re-reads for this long after a notice (longer than NOTICE_EVERY)
# Campaigns whose progress may still move (running, paused, or finished recently) are looked up
# at most this often per process, so status webhooks of ordinary messages cost nothing extra.
LIVE_IDS_FOR = 2.0

_local = threading.local()
_announced: dict[int, float] = {}
_live_ids: tuple[float, frozenset[int]] = (0.0, frozenset())


def group(campaign_id: int) -> str:
    return f"campaign.{campaign_id}"


def progress_changed(campaign_id: int) -> None:
    """Tell the campaign's open pages to look again (after the current transaction commits)."""
    transaction.on_commit(lambda: _notice(campaign_id), robust=True)


def _notice(campaign_id: int) -> None:
    now = time.monotonic()
    if now - _announced.get(campaign_id, 0.0) < NOTICE_EVERY:
        return  # this process announced it a moment ago
    _announced[campaign_id] = now
    if not _first_in_window(campaign_id):
        return  # another process did
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group(campaign_id), {"type": "campaign.progress", "campaign": campaign_id})
    except Exception:  # a lost notice only delays the bar until the next one (or its poll)
        log.warning("campaign %s: progress notice not sent", campaign_id, exc_info=True)


def _first_in_window(campaign_id: int) -> bool:
    url = getattr(settings, "REDIS_URL", "") or ""
    if not url:
        return True
    from conversations.pacing import _client

    try:
        key = f"campaign:{campaign_id}:notice"
        return bool(_client(url).set(key, "1", nx=True, px=int(NOTICE_EVERY * 1000)))
    except Exception:
        return True


def _live_campaign_ids() -> frozenset[int]:
    from campaigns.models import Campaign

    global _live_ids
    now = time.monotonic()
    if now - _live_ids[0] < LIVE_IDS_FOR:
        return _live_ids[1]
    from campaigns.views import FOLLOW_AFTER_FINISH

    ids = frozenset(
        Campaign.objects.exclude(state__in=[Campaign.State.DRAFT, Campaign.State.READY])
        .exclude(finished_at__lt=timezone.now() - FOLLOW_AFTER_FINISH)
        .values_list("pk", flat=True)
    )
    _live_ids = (now, ids)
    return ids


@contextmanager
def sending_for(campaign_id: int):
    """Within this block, status changes of messages are known to be the campaign's (no lookup)."""
    outer = getattr(_local, "campaign_id", None)
    _local.campaign_id = campaign_id
    try:
        yield
    finally:
        _local.campaign_id = outer


def message_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """post_save of a Message: a campaign message whose status changed nudges its campaign's pages."""
    if created or instance.direction != "out" or instance.type != "template":
        return
    if update_fields is not None and "status" not in update_fields:
        return
    campaign_id = getattr(_local, "campaign_id", None)
    if campaign_id is None:
        if not _live_campaign_ids():
            return  # no campaign is live: ordinary template messages pay nothing
        from campaigns.models import Recipient

        campaign_id = Recipient.objects.filter(message_id=instance.pk).values_list("campaign_id", flat=True).first()
        if campaign_id is None:
            return
    progress_changed(campaign_id)


# --- what the socket sends ------------------------------------------------------------------------


def progress_html(campaign_id: int, *, language: str) -> str | None:
    """The page's progress bar as it is now (None when the campaign is gone)."""
    from campaigns import selectors
    from campaigns.models import Campaign
    from campaigns.views import _live

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return None
    progress = selectors.progress(campaign)
    with translation.override(language):
        return render_to_string(
            "campaigns/_progress.html", {"campaign": campaign, "progress": progress, "live": _live(campaign, progress)}
        )
