"""Create the agent, admin and finance groups with their permissions (inbox/roles.py)."""

from __future__ import annotations

from django.db import migrations

# Frozen copy of inbox.roles at the time of this migration: migrations must not import live code.
CAPABILITIES = {
    "work_inbox": "Can read and answer customer conversations",
    "manage_templates": "Can write and approve notification templates",
    "manage_numbers": "Can manage business numbers",
    "manage_users": "Can manage users and API tokens",
    "view_billing": "Can see costs and export billing",
    "send_notifications": "Can send template notifications through the API",
}
ROLE_CAPABILITIES = {
    "agent": ["work_inbox", "send_notifications"],
    "admin": ["work_inbox", "send_notifications", "manage_templates", "manage_numbers", "manage_users", "view_billing"],
    "finance": ["view_billing"],
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after all migrations (post_migrate); create ours now.
    content_type, _ = ContentType.objects.get_or_create(app_label="inbox", model="capability")
    permissions = {}
    for codename, name in CAPABILITIES.items():
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c] for c in codenames])


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_CAPABILITIES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
