"""The context thread.html's partials need: shared by the pages, the htmx answers and live updates."""

from __future__ import annotations

import uuid

from conversations.models import Conversation
from inbox import queries
from inbox.forms import SNOOZE_CHOICES, ReplyForm

QUICK_REACTIONS = ["👍", "❤️", "😂", "🙏", "😮"]


def thread_context(request_user, conversation: Conversation, *, page=None, form=None, reply_to=None, text="") -> dict:
    """What thread.html's partials need; shared by the page, the htmx answers and live updates."""
    win = queries.window_state(conversation)
    if form is None:
        form = ReplyForm(
            initial={"client_id": uuid.uuid4(), "reply_to": reply_to.pk if reply_to else None, "text": text}
        )
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "win": win,
        "page": page,
        "form": form,
        "reply_to": reply_to,
        "teammates": queries.teammates_of(conversation),
        "user": request_user,
        "snooze_choices": SNOOZE_CHOICES,
        "statuses": Conversation.Status,
        "quick_reactions": QUICK_REACTIONS,
        "can_templates": request_user is not None and request_user.has_perm("inbox.manage_templates"),
    } | _closed_window_picker(request_user, conversation, win) | _reply_price(conversation, win)


def _reply_price(conversation: Conversation, win: dict) -> dict:
    """Inside the window: what a free-form reply costs now (nothing within the number's monthly
    free tier; Meta's service rate once it is used up), so the agent sees it before sending."""
    if not win["open"]:
        return {}
    from django.utils import timezone

    from billing.selectors import reply_price

    return {"reply_quote": reply_price(number=conversation.number, contact=conversation.contact, at=timezone.now())}


def message_context(conversation: Conversation) -> dict:
    """What thread.html's message partials need, and nothing that depends on who looks at them
    (live updates render a message once and share it between every viewer of the thread)."""
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "win": queries.window_state(conversation),
        "quick_reactions": QUICK_REACTIONS,
    }


def _closed_window_picker(request_user, conversation: Conversation, win: dict) -> dict:
    """Outside the window the template picker takes the composer's place."""
    if win["open"]:
        return {}
    from inbox.template_views import picker_context

    return picker_context(request_user, conversation)


def row_context(request_user, row: Conversation) -> dict:
    """What list.html#row needs for one conversation (a row from queries.conversation_row)."""
    return {"row": row, "user": request_user, "current_id": None, "list_qs": ""}
