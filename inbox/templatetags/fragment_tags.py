"""{% conversation_row %}, {% message_item %} and {% thread_header %}: the list row and the message
bubble (inbox.fragments), and the thread's header (inbox.thread_header)."""

from __future__ import annotations

from django import template

from inbox import fragments
from inbox.thread_header import thread_header as header

register = template.Library()


@register.simple_tag(takes_context=True)
def conversation_row(context, row):
    return fragments.conversation_row(row, current_id=context.get("current_id"), list_qs=context.get("list_qs") or "")


@register.simple_tag(takes_context=True)
def conversation_rows(context, rows):
    return fragments.conversation_rows(rows, current_id=context.get("current_id"), list_qs=context.get("list_qs") or "")


@register.simple_tag(takes_context=True)
def message_items(context, messages):
    return fragments.message_items(messages, **_bubble_context(context))


@register.simple_tag(takes_context=True)
def message_item(context, message):
    return fragments.message_item(message, **_bubble_context(context))


@register.simple_tag(takes_context=True)
def thread_header(context):
    return header(
        conversation=context["conversation"],
        contact=context["contact"],
        win=context["win"],
        teammates=context.get("teammates") or (),
        user=context.get("user"),
        snooze_choices=context.get("snooze_choices") or (),
        list_qs=context.get("list_qs") or "",
        oob=context.get("oob") or "",
        action_error=context.get("action_error") or "",
        csrf_token=context.get("csrf_token"),
    )


def _bubble_context(context) -> dict:
    return {
        "conversation": context.get("conversation"),
        "contact": context.get("contact"),
        "win": context.get("win"),
        "quick_reactions": context.get("quick_reactions") or (),
        "csrf_token": context.get("csrf_token"),
        "oob": context.get("oob"),
        "retry_error": context.get("retry_error") or "",
        "action_error": context.get("action_error") or "",
    }
