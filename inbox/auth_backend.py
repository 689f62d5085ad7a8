"""Django's ModelBackend, reading the signed-in user in two queries.

Every page needs the user, their profile (the time zone), their groups (the role) and their
permissions. Django reads them in five queries or more (the groups again at each role check).
Here the user comes with the profile in one query, and the groups with the permissions (the
user's own and their groups') in a second: both are kept on the user for the request, where
Django's own code finds them (`user.groups.all()` and `user.get_all_permissions()`). Websockets
get the same user object and read it again when the user changes (inbox.live.viewer_refreshed).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class InboxBackend(ModelBackend):
    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("profile").filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        _groups_and_permissions_kept(user)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The permissions read with the groups (get_user); Django's two queries for any other user."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            _groups_and_permissions_kept(user_obj)
        return user_obj._perm_cache


def _groups_and_permissions_kept(user) -> None:
    """Read the user's groups and permissions in one query and keep them on the user, as
    prefetch_related("groups") and ModelBackend's _perm_cache would."""
    groups_through = user.groups.through._meta
    permissions_through = user.user_permissions.through._meta
    group_permissions = Group.permissions.through._meta
    sql = f"""
        SELECT g.id, g.name, NULL, NULL
          FROM {Group._meta.db_table} g
          JOIN {groups_through.db_table} ug ON ug.group_id = g.id
         WHERE ug.user_id = %(user)s
        UNION ALL
        SELECT DISTINCT CAST(NULL AS integer), NULL, ct.app_label, p.codename
          FROM {Permission._meta.db_table} p
          JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
         WHERE p.id IN (
               SELECT up.permission_id FROM {permissions_through.db_table} up WHERE up.user_id = %(user)s
               UNION
               SELECT gp.permission_id
                 FROM {group_permissions.db_table} gp
                 JOIN {groups_through.db_table} ug ON ug.group_id = gp.group_id
                WHERE ug.user_id = %(user)s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk})
        rows = cursor.fetchall()
    groups = [Group(id=pk, name=name) for pk, name, _app, _codename in rows if pk is not None]
    kept = Group.objects.filter(user=user)
    kept._result_cache, kept._prefetch_done = groups, True
    user._prefetched_objects_cache = {**getattr(user, "_prefetched_objects_cache", {}), "groups": kept}
    if user.is_active and not user.is_superuser:
        user._perm_cache = {f"{app}.{codename}" for pk, _name, app, codename in rows if pk is None}
