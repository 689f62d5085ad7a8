"""Django's ModelBackend, reading the signed-in user in one query.

Every page needs the user, their profile (the time zone), their groups (the role) and their
permissions. Django reads them in five queries or more (the groups again at each role check).
Here the user comes with the profile, the groups and the permissions (the user's own and their
groups') in one query on PostgreSQL (two elsewhere): they are kept on the user for the request,
where Django's own code finds them (`user.groups.all()` and `user.get_all_permissions()`).
Websockets get the same user object and read it again when the user changes
(inbox.live.viewer_refreshed).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Field
from django.db.models.expressions import RawSQL


class InboxBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("profile").filter(pk=user_id)
        if connection.vendor == "postgresql":
            # The groups and permissions as two JSON columns of the user's row: a query less
            # on every page (about a millisecond of a thread pane's thirty).
            user = _one(
                users.annotate(
                    group_list=RawSQL(_groups_as_json(), (), output_field=Field()),
                    permission_list=RawSQL(_permissions_as_json(), (), output_field=Field()),
                )
            )
            if user is not None:
                _kept(user, [Group(id=pk, name=name) for pk, name in user.group_list], set(user.permission_list))
        else:
            user = _one(users)
            if user is not None:
                _groups_and_permissions_kept(user)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The permissions read with the groups (get_user); Django's two queries for any other user."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            _groups_and_permissions_kept(user_obj)
        return user_obj._perm_cache


def _one(users):
    """The user or None. Not .first(), which orders by the key: for one row by its key an ORDER
    BY only costs Django time to compile."""
    return next(iter(users[:1]), None)


def _tables() -> dict[str, str]:
    User = get_user_model()
    return {
        "user": User._meta.db_table,
        "group": Group._meta.db_table,
        "user_groups": User.groups.through._meta.db_table,
        "user_permissions": User.user_permissions.through._meta.db_table,
        "group_permissions": Group.permissions.through._meta.db_table,
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
    }


def _permission_ids(user: str) -> str:
    """The ids of a user's permissions: their own and their groups'. `user` is SQL for the user's id."""
    t = _tables()
    return f"""SELECT up.permission_id FROM {t["user_permissions"]} up WHERE up.user_id = {user}
               UNION
               SELECT gp.permission_id
                 FROM {t["group_permissions"]} gp
                 JOIN {t["user_groups"]} ug ON ug.group_id = gp.group_id
                WHERE ug.user_id = {user}"""


def _groups_as_json() -> str:
    t = _tables()
    return f"""COALESCE((SELECT json_agg(json_build_array(g.id, g.name))
                          FROM {t["group"]} g JOIN {t["user_groups"]} ug ON ug.group_id = g.id
                         WHERE ug.user_id = {t["user"]}.id), '[]')"""


def _permissions_as_json() -> str:
    t = _tables()
    return f"""COALESCE((SELECT json_agg(DISTINCT ct.app_label || '.' || p.codename)
                          FROM {t["permission"]} p JOIN {t["content_type"]} ct ON ct.id = p.content_type_id
                         WHERE p.id IN ({_permission_ids(t["user"] + ".id")})), '[]')"""


def _groups_and_permissions_kept(user) -> None:
    """Read the user's groups and permissions in one query and keep them on the user, as
    prefetch_related("groups") and ModelBackend's _perm_cache would."""
    t = _tables()
    sql = f"""
        SELECT g.id, g.name, NULL, NULL
          FROM {t["group"]} g
          JOIN {t["user_groups"]} ug ON ug.group_id = g.id
         WHERE ug.user_id = %(user)s
        UNION ALL
        SELECT DISTINCT CAST(NULL AS integer), NULL, ct.app_label, p.codename
          FROM {t["permission"]} p
          JOIN {t["content_type"]} ct ON ct.id = p.content_type_id
         WHERE p.id IN ({_permission_ids("%(user)s")})
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk})
        rows = cursor.fetchall()
    groups = [Group(id=pk, name=name) for pk, name, _app, _codename in rows if pk is not None]
    _kept(user, groups, {f"{app}.{codename}" for pk, _name, app, codename in rows if pk is None})


def _kept(user, groups: list[Group], permissions: set[str]) -> None:
    """Keep them where prefetch_related("groups") and ModelBackend's _perm_cache would."""
    kept = Group.objects.filter(user=user)
    kept._result_cache, kept._prefetch_done = groups, True
    user._prefetched_objects_cache = {**getattr(user, "_prefetched_objects_cache", {}), "groups": kept}
    if user.is_active and not user.is_superuser:
        user._perm_cache = permissions
