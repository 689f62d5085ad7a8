"""Django's ModelBackend, reading the signed-in user in fewer queries.

Every page needs the user, their profile (the time zone), their groups (the role) and their
permissions. Django reads them in five queries or more (the groups again at each role check);
here the user comes with the profile in one query and the groups in a second, kept for the
request, and the permissions in a third. Websockets get the same user object and read it
again when the user changes (inbox.live.viewer_refreshed).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class InboxBackend(ModelBackend):
    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("profile")
            .prefetch_related("groups")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        """The user's own and their groups' permissions in one query (Django reads them in two)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            granted = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            pairs = granted.values_list("content_type__app_label", "codename").distinct()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in pairs}
        return user_obj._perm_cache
