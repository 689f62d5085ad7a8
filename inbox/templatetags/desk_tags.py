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
    if services.message_retry_may_duplicate(message):
        return "duplicate"
    return "" if services.message_retry_refusal(message=message) else "retry"


@register.filter
def template_category(value: str) -> str:
    """Meta's category code (MARKETING, UTILITY, ...) as the reader's word for it."""
    from templates_app.models import Category

    try:
        return str(Category(str(value).upper()).label)
    except ValueError:
        return str(value)


@register.filter
def messaging_limit(tier: str) -> str:
    """Meta's messaging-limit tier in words: how many customers a number may start talks with in 24 h."""
    from django.utils.formats import number_format
    from django.utils.translation import gettext as _

    from whatsapp.limits import tier_size

    size = tier_size(tier)
    if size:
        return _("%(count)s customers in 24 h") % {"count": number_format(size, force_grouping=True)}
    if size == 0:
        return _("unlimited")
    if str(tier or "").upper() == "TIER_NOT_SET":
        return _("not set yet (nothing sent)")
    return str(tier or "").upper()


@register.filter
def quality_rating(rating: str) -> str:
    """Meta's quality rating of a number as its manager names it: High, Medium, Low."""
    from django.utils.translation import gettext as _

    return {"GREEN": _("High"), "YELLOW": _("Medium"), "RED": _("Low")}.get(str(rating or "").upper(), str(rating))


@register.filter
def quality_event(event: str) -> str:
    """Meta's last phone_number_quality_update event in words."""
    from django.utils.translation import gettext as _

    words = {
        "UNFLAGGED": _("Meta lifted its quality flag"),
        "UPGRADE": _("limit raised by Meta"),
        "DOWNGRADE": _("limit lowered by Meta"),
        "ONBOARDING": _("still being registered"),
        "THROUGHPUT_UPGRADE": _("higher throughput"),
    }
    return words.get(str(event or "").upper(), str(event))
