"""{% conversation_row %}, {% message_item %}, {% thread_header %} and {% customer_pane %}: the list
row and the message bubble (inbox.fragments), the thread's header (inbox.thread_header) and the
customer pane (inbox.customer_pane_html)."""

from __future__ import annotations

from django import template

from inbox import customer_pane_html, fragments
from inbox.thread_composer import thread_composer as composer
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


@register.simple_tag(takes_context=True)
def thread_composer(context):
    return composer(context.flatten())


@register.simple_tag(takes_context=True)
def customer_pane(context):
    return customer_pane_html.customer_pane(
        conversation=context["conversation"],
        contact=context["contact"],
        win=context["win"],
        contact_language=context.get("contact_language") or "",
        contact_labels=context.get("contact_labels") or (),
        thread_history=context.get("thread_history") or (),
        other_conversations=context.get("other_conversations") or (),
        contact_notes=context.get("contact_notes") or (),
        name_error=context.get("name_error") or "",
        name_typed=context.get("name_typed") or "",
        oob=context.get("oob") or False,
        csrf_token=context.get("csrf_token"),
    )


@register.simple_tag(takes_context=True)
def customer_pane_labels(context):
    return customer_pane_html.pane_labels(
        conversation=context["conversation"],
        contact_labels=context.get("contact_labels") or (),
        part_oob=context.get("part_oob") or False,
    )


@register.simple_tag(takes_context=True)
def customer_pane_history(context):
    return customer_pane_html.pane_history(
        conversation=context["conversation"],
        thread_history=context.get("thread_history") or (),
        part_oob=context.get("part_oob") or False,
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
