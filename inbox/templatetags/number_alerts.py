"""`{% stopped_numbers_banner %}`: on every page an admin opens, the business numbers Meta stopped.

A 190 (the access token refused), a locked account or a payment problem stops a number's
sending (conversations.services.message_send_failed sets `stopped_at`). Agents only see their
replies fail; the admins, who can renew the token, must hear it wherever they are. The banner
stays until the number's `stopped_at` is cleared.
"""

from __future__ import annotations

from django import template

from conversations.models import BusinessNumber
from core.roles import ADMIN
from inbox.context_processors import _connection_given_back

register = template.Library()


@register.inclusion_tag("inbox/_stopped_numbers.html", takes_context=True)
def stopped_numbers_banner(context) -> dict:
    # user_role comes from the navigation context processor: no second look-up of the role.
    if context.get("user_role") != ADMIN:
        return {"stopped": []}
    # Error pages render in another thread: give back a connection opened only for this.
    with _connection_given_back():
        stopped = list(BusinessNumber.objects.filter(stopped_at__isnull=False).order_by("display_phone_number"))
    return {"stopped": stopped}
