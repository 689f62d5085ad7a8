"""Template helpers of the agent's desk (issue 12) that need a service's judgement."""

from __future__ import annotations

from django import template

from conversations import services

register = template.Library()


@register.filter
def retry_offer(message) -> str:
    """ "retry" when a failed message may be sent again; "duplicate" when it is not offered because
    WhatsApp never answered and the customer may already have it (the thread says so); "" when
    Meta's error rules it out (the failure line says why)."""
    if message.direction != "out" or message.status != "failed":
        return ""
    if services.message_retry_refusal(message=message):
        return ""
    return "duplicate" if services.message_retry_may_duplicate(message) else "retry"


@register.filter
def template_category(value: str) -> str:
    """Meta's category code (MARKETING, UTILITY, ...) as the reader's word for it."""
    from templates_app.models import Category

    try:
        return str(Category(str(value).upper()).label)
    except ValueError:
        return str(value)
