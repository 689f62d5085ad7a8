"""The customer pane's history: each ConversationActivity as a sentence a person reads
("Anna assigned this to Ben", "Reopened automatically when the customer wrote")."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from conversations.models import Conversation, ConversationActivity

register = template.Library()
Kind = ConversationActivity.Kind


def _name(user) -> str:
    """How the pane names a teammate elsewhere (notes, "Name set by"): full name, else username.
    A deleted account leaves None behind."""
    if user is None:
        return _("A former teammate")
    return user.get_full_name() or user.username


@register.filter
def activity_sentence(activity: ConversationActivity) -> str:
    """The entry as a sentence; plain text, escaped by the template like any value."""
    if activity.kind == Kind.REOPENED:
        return _("Reopened automatically when the customer wrote")
    if activity.kind == Kind.WOKE:
        return _("Woke from snooze automatically")
    actor = _name(activity.actor)
    if activity.kind == Kind.ASSIGNED:
        return _("%(actor)s assigned this to %(assignee)s") % {"actor": actor, "assignee": _name(activity.assignee)}
    if activity.kind == Kind.UNASSIGNED:
        return _("%(actor)s unassigned this") % {"actor": actor}
    if activity.kind == Kind.SNOOZED:
        until = formats.date_format(timezone.localtime(activity.snooze_until), "SHORT_DATETIME_FORMAT")
        return _("%(actor)s snoozed this until %(time)s") % {"actor": actor, "time": until}
    if activity.kind == Kind.LABEL_ADDED:
        return _("%(actor)s added the label %(label)s") % {"actor": actor, "label": activity.label}
    if activity.kind == Kind.LABEL_REMOVED:
        return _("%(actor)s removed the label %(label)s") % {"actor": actor, "label": activity.label}
    if activity.kind == Kind.RETRIED:
        return _("%(actor)s sent a failed message again") % {"actor": actor}
    return _status_sentence(actor, activity.status)


def _status_sentence(actor: str, status: str) -> str:
    if status == Conversation.Status.OPEN:
        return _("%(actor)s reopened this") % {"actor": actor}
    if status == Conversation.Status.PENDING:
        return _("%(actor)s marked this as waiting for the customer") % {"actor": actor}
    if status == Conversation.Status.RESOLVED:
        return _("%(actor)s resolved this") % {"actor": actor}
    label = dict(Conversation.Status.choices).get(status, status)  # a status added later
    return _("%(actor)s set the status to %(status)s") % {"actor": actor, "status": label}
