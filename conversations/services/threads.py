"""What agents do to a thread: mark it read (Meta's read receipt), assign it, set its status
(snoozed threads wake by beat), and label it. Each change (not a no-op) is recorded in the
thread's history with who made it (`by`; None when the system did it by itself)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from conversations import events
from conversations.exceptions import ConversationError, NotAllowed
from conversations.models import Conversation, Label, Message
from conversations.services._common import _now, _require_aware
from conversations.services.activity import Kind, activity_record
from conversations.services.delivery import read_receipt_publish
from core.roles import perm

MAX_SNOOZE = timedelta(days=366)


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, user) -> None:
    """The agent read the thread: clear the unread count and send Meta's read receipt (blue ticks)."""
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
        read_receipt_publish(latest)
    events.conversation_changed(locked)


def _may_work_number(user, number_id: int) -> bool:
    from conversations.selectors import numbers_for_user

    return user.is_active and user.has_perm(perm("work_inbox")) and numbers_for_user(user).filter(pk=number_id).exists()


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, by, now: datetime | None = None) -> Conversation:
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
        kind = Kind.ASSIGNED if assignee is not None else Kind.UNASSIGNED
        activity_record(conversation_id=locked.pk, actor=by, kind=kind, at=_now(now), assignee=assignee)
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
        if status == Conversation.Status.SNOOZED:
            activity_record(conversation_id=locked.pk, actor=by, kind=Kind.SNOOZED, at=now, snooze_until=snooze_until)
        else:
            activity_record(conversation_id=locked.pk, actor=by, kind=Kind.STATUS, at=now, status=status)
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
        activity_record(conversation_id=conversation.pk, actor=None, kind=Kind.WOKE, at=now)
        events.conversation_changed(conversation)
    return len(due)


def _label_name(name: str) -> str:

    clean = " ".join((name or "").replace("\x00", "").split())[:50]
    if not clean:
        raise ConversationError(_("A label needs a name."))
    return clean


def _lock_labels(conversation: Conversation) -> None:
    """Serialise label changes on the thread, so that of two agents adding the same label at
    once only one records it (the other sees it there already)."""
    Conversation.objects.select_for_update(no_key=True).filter(pk=conversation.pk).values_list("pk").first()


@transaction.atomic
def conversation_label_add(*, conversation: Conversation, name: str, by, now: datetime | None = None) -> Label:
    clean = _label_name(name)
    label = Label.objects.filter(name__iexact=clean).first()
    if label is None:
        try:
            with transaction.atomic():
                label = Label.objects.create(name=clean)
        except IntegrityError:
            label = Label.objects.get(name=clean)
    _lock_labels(conversation)
    if not conversation.labels.filter(pk=label.pk).exists():
        conversation.labels.add(label)
        activity_record(
            conversation_id=conversation.pk, actor=by, kind=Kind.LABEL_ADDED, at=_now(now), label=label.name
        )
    events.conversation_changed(conversation)
    return label


@transaction.atomic
def conversation_label_remove(*, conversation: Conversation, name: str, by, now: datetime | None = None) -> None:
    label = Label.objects.filter(name__iexact=_label_name(name)).first()
    if label is None:
        return
    _lock_labels(conversation)
    if conversation.labels.filter(pk=label.pk).exists():
        conversation.labels.remove(label)
        activity_record(
            conversation_id=conversation.pk, actor=by, kind=Kind.LABEL_REMOVED, at=_now(now), label=label.name
        )
    events.conversation_changed(conversation)
