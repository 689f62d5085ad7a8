"""Open sockets hear when their user's access changed, wherever it was changed.

A socket caches what its user may see (inbox.live.Viewer). Users are changed by our services,
but also in Django's admin (active flag, groups, business numbers), which calls no service of
ours; model signals are the one place that sees both. Each change sends the user a
`user.changed` event after commit, and their sockets read the user again (or close).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save


def _changed(user_id: int | None) -> None:
    if user_id:
        from conversations import events

        events.user_changed(user_id)


def _user_saved(sender, instance, **kwargs) -> None:
    _changed(instance.pk)


def _profile_saved(sender, instance, **kwargs) -> None:
    _changed(instance.user_id)


def _user_relations_changed(sender, instance, action, pk_set, reverse, **kwargs) -> None:
    """User.groups / User.user_permissions (forward) or BusinessNumber.members (either side)."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, get_user_model()):
        _changed(instance.pk)
    else:  # a business number's members changed: each of them
        for user_id in pk_set or ():
            _changed(user_id)


def connect() -> None:
    from conversations.models import BusinessNumber
    from inbox.models import UserProfile

    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="inbox.access.user")
    post_save.connect(_profile_saved, sender=UserProfile, dispatch_uid="inbox.access.profile")
    for through, uid in (
        (user_model.groups.through, "groups"),
        (user_model.user_permissions.through, "permissions"),
        (BusinessNumber.members.through, "numbers"),
    ):
        m2m_changed.connect(_user_relations_changed, sender=through, dispatch_uid=f"inbox.access.{uid}")
