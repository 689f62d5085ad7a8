"""The three roles, as Django groups, and what each may do.

Roles are groups so that Django's admin shows and edits them; the permissions live on
`inbox.Capability` (a table-less model) so they do not depend on which apps have models.
The data migration `inbox/migrations/0002_roles.py` creates the groups from this table.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

AGENT = "agent"
ADMIN = "admin"
FINANCE = "finance"
ROLES = (AGENT, ADMIN, FINANCE)

# codename -> description, all on inbox.Capability
CAPABILITIES = {
    "work_inbox": "Can read and answer customer conversations",
    "manage_templates": "Can write and approve notification templates",
    "manage_numbers": "Can manage business numbers",
    "manage_users": "Can manage users and API tokens",
    "view_billing": "Can see costs and export billing",
    "send_notifications": "Can send template notifications through the API",
    "run_campaigns": "Can run campaigns",
}

ROLE_CAPABILITIES = {
    AGENT: ["work_inbox", "send_notifications"],
    ADMIN: [
        "work_inbox",
        "send_notifications",
        "manage_templates",
        "manage_numbers",
        "manage_users",
        "view_billing",
        "run_campaigns",
    ],
    FINANCE: ["view_billing"],
}

# Capabilities an admin may also allow one agent (the team page): stored as that user's own
# permission, and counted only while the user is an agent (or an admin, who has it by role).
# Finance never has them, whatever permission a user may still carry from an earlier role.
AGENT_GRANTS = {"run_campaigns": (AGENT, ADMIN)}


# Django model permissions a role needs for its pages in /admin/ (app_label.codename).
# Admins manage numbers, users and their tokens, labels and canned answers, and look after
# webhook events; they cannot make anyone a superuser (inbox/admin.py).
ROLE_MODEL_PERMISSIONS = {
    ADMIN: [
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "inbox.view_apitoken",
        "inbox.change_apitoken",
        "inbox.view_userprofile",
        "inbox.change_userprofile",
        "conversations.view_businessnumber",
        "conversations.add_businessnumber",
        "conversations.change_businessnumber",
        "conversations.view_label",
        "conversations.add_label",
        "conversations.change_label",
        "conversations.delete_label",
        "conversations.view_cannedresponse",
        "conversations.add_cannedresponse",
        "conversations.change_cannedresponse",
        "conversations.delete_cannedresponse",
        "webhooks.view_webhookevent",
        "webhooks.change_webhookevent",
    ],
}


def perm(codename: str) -> str:
    return f"inbox.{codename}"


_UNREAD = object()


def has_capability(user, codename: str, *, role=_UNREAD) -> bool:
    """Whether the user may do what `codename` allows: by role, or by an agent's own grant.

    `role` is the user's role_of() when the caller has it already (it saves a query)."""
    if not user.has_perm(perm(codename)):
        return False
    roles = AGENT_GRANTS.get(codename)
    if roles is None:
        return True
    return (role_of(user) if role is _UNREAD else role) in roles


def own_grants(user) -> set[str]:
    """The AGENT_GRANTS codenames the user was allowed one by one (not through the role)."""
    return {
        p.codename
        for p in user.user_permissions.all()
        if p.codename in AGENT_GRANTS and p.content_type.app_label == "inbox"
    }


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The user's role name; superusers count as admins."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()}
    for role in (ADMIN, AGENT, FINANCE):
        if role in names:
            return role
    return None


def landing_url_name(user) -> str:
    """Where a user lands after signing in: each role on its own page."""
    role = role_of(user)
    if role == ADMIN:
        return "templates_app:index"
    if role == FINANCE:
        return "billing:index"
    return "inbox:index"


def sync_role_groups(using: str = "default") -> None:
    """Make the groups and their permissions match ROLE_CAPABILITIES (idempotent)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    content_type, _ = ContentType.objects.db_manager(using).get_or_create(app_label="inbox", model="capability")
    permissions = {}
    for codename, name in CAPABILITIES.items():
        permissions[codename], _ = Permission.objects.db_manager(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.db_manager(using).get_or_create(name=role)
        model_permissions = []
        for dotted in ROLE_MODEL_PERMISSIONS.get(role, []):
            app_label, codename = dotted.split(".")
            # Absent only while an app's models are not migrated yet; the next migrate adds it.
            found = (
                Permission.objects.db_manager(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if found is not None:
                model_permissions.append(found)
        group.permissions.set([permissions[c] for c in codenames] + model_permissions)
