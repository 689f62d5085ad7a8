"""Reads of numbers and conversations, scoped to what a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from conversations.models import BusinessNumber, Conversation
from inbox.roles import ADMIN, role_of


def numbers_for_user(user) -> QuerySet[BusinessNumber]:
    """Admins, and agents set to all numbers, see every number; others see their members' numbers."""
    profile = getattr(user, "profile", None)
    if role_of(user) == ADMIN or (profile is not None and profile.all_numbers):
        return BusinessNumber.objects.all()
    return BusinessNumber.objects.filter(members=user)


def conversations_for_user(user) -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(number__in=numbers_for_user(user))
        .select_related("contact", "number", "assignee")
        .order_by("-last_message_at", "-id")
    )
