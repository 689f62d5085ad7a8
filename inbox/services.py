"""Writes for users, roles and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core.roles import AGENT, ROLES
from inbox.models import ApiToken, UserProfile, hash_token

User = get_user_model()


class UnknownRole(ValueError):
    pass


class UnknownNumber(ValueError):
    pass


@transaction.atomic
def user_create_or_update(
    *,
    username: str,
    role: str,
    password: str | None = None,
    number_ids: list[str] | None = None,
    may_run_campaigns: bool | None = None,
) -> User:
    """Create the user (or update an existing one) and make `role` their only role.

    An agent works the inboxes of the numbers named by phone_number_id; of all numbers
    (present and future) when none are named. `may_run_campaigns` allows (True) or withdraws
    (False) an agent's campaigns; None keeps what the agent had.
    """
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    user, created = User.objects.get_or_create(username=username)
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = role == "admin"  # admins may use /admin/ for numbers and users
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    from conversations.models import BusinessNumber

    numbers = list(BusinessNumber.objects.filter(phone_number_id__in=number_ids or []))
    missing = set(number_ids or []) - {n.phone_number_id for n in numbers}
    if missing:
        raise UnknownNumber(f"no business number with phone_number_id {', '.join(sorted(missing))}")
    user.business_numbers.set(numbers)
    profile, _ = UserProfile.objects.get_or_create(user=user)
    # Only agents are scoped by number; admins see every inbox by role, finance none.
    profile.all_numbers = role == AGENT and not numbers
    profile.save(update_fields=["all_numbers"])
    # The grant is an agent's: an admin has campaigns by role, finance never.
    if role != AGENT:
        user_campaigns_allow(user=user, allowed=False)
    elif may_run_campaigns is not None:
        user_campaigns_allow(user=user, allowed=may_run_campaigns)
    return user


def user_campaigns_allow(*, user: User, allowed: bool) -> None:
    """Allow one agent to run campaigns (a permission of their own), or withdraw it.

    Only agents carry the grant (user_create_or_update drops it with any other role, so an
    agent made admin and later agent again starts without it; roles.has_capability ignores
    it on anyone but an agent or admin). Adding or removing it tells the user's open sockets
    (inbox.access_changes).
    """
    from django.contrib.auth.models import Permission

    mine = list(user.user_permissions.filter(content_type__app_label="inbox", codename="run_campaigns"))
    if allowed and not mine:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="inbox", codename="run_campaigns"))
    elif mine and not allowed:
        user.user_permissions.remove(*mine)
    # Django caches a user's permissions on the instance: read them again when next asked.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), key_prefix=raw[:12])
    return token, raw


def api_token_authenticate(*, raw: str, now: datetime) -> User | None:
    """The active user behind a raw bearer token, or None."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Record use at most once a minute: a busy integration should not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_set_active(*, user: User, active: bool) -> User:
    """Deactivate (or reactivate) a person: a deactivated user cannot sign in or use tokens."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


def api_token_revoke(*, token: ApiToken, now: datetime) -> ApiToken:
    """Revoke a token from now on; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return token


def contact_note_add(*, contact, author: User, text: str):
    """A note about the customer (shared by every thread with them); empty text is refused."""
    from conversations.exceptions import ConversationError
    from conversations.models import ContactNote

    text = text.strip()
    if not text:
        raise ConversationError("empty note")
    return ContactNote.objects.create(contact=contact, author=author, text=text[:4000])


CONTACT_NAME_MAX = 100  # Contact.name's column


@transaction.atomic
def contact_name_set(*, contact, name: str, by: User, now: datetime):
    """The agent's name for the customer; an empty name shows the WhatsApp profile name again.

    Returns the contact. Inbound messages only ever write `profile_name`, so what an agent set
    here survives every later profile update. Who set it and when is kept on the contact.
    """
    import unicodedata

    from django.utils.translation import gettext as _

    from conversations import events
    from conversations.exceptions import ConversationError
    from conversations.models import Contact, Conversation

    clean = " ".join((name or "").split())  # line breaks and runs of spaces become one space
    if any(unicodedata.category(char) == "Cc" for char in clean):
        raise ConversationError(_("The name contains characters that cannot be shown."))
    if len(clean) > CONTACT_NAME_MAX:
        raise ConversationError(
            _("Keep the name to %(max)d characters (this one has %(length)d).")
            % {"max": CONTACT_NAME_MAX, "length": len(clean)}
        )
    locked = Contact.objects.select_for_update(no_key=True).get(pk=contact.pk)
    if locked.name != clean:
        locked.name = clean
        locked.name_set_by = by if clean else None
        locked.name_set_at = now if clean else None
        locked.save(update_fields=["name", "name_set_by", "name_set_at", "updated_at"])
        # Every thread with this customer shows the name in its list row and header.
        for conversation in Conversation.objects.filter(contact_id=locked.pk):
            events.conversation_changed(conversation)
    contact.name, contact.name_set_by, contact.name_set_at = locked.name, locked.name_set_by, locked.name_set_at
    return locked


def canned_answer_delete(*, shortcut: str) -> bool:
    """Remove a saved answer; False when there was none with this shortcut."""
    from conversations.models import CannedResponse

    deleted, _rows = CannedResponse.objects.filter(shortcut=shortcut).delete()
    return bool(deleted)


def notify_preferences_set(*, user: User, sound: bool, desktop: bool) -> UserProfile:
    """How the inbox page tells this user about new customer messages."""
    profile, _created = UserProfile.objects.get_or_create(user=user)
    profile.notify_sound = sound
    profile.notify_desktop = desktop
    profile.save(update_fields=["notify_sound", "notify_desktop"])
    return profile
