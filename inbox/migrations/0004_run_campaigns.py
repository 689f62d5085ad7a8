"""The run_campaigns capability: the admin role has it; an admin may allow it to single agents."""

from __future__ import annotations

from django.db import migrations

# Frozen copy of inbox.roles at the time of this migration: migrations must not import live code.
CAPABILITIES = [
    ("work_inbox", "Can read and answer customer conversations"),
    ("manage_templates", "Can write and approve notification templates"),
    ("manage_numbers", "Can manage business numbers"),
    ("manage_users", "Can manage users and API tokens"),
    ("view_billing", "Can see costs and export billing"),
    ("send_notifications", "Can send template notifications through the API"),
    ("run_campaigns", "Can run campaigns"),
]


def add_capability(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="inbox", model="capability")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="run_campaigns", defaults={"name": "Can run campaigns"}
    )
    for group in Group.objects.filter(name="admin"):
        group.permissions.add(permission)


def remove_capability(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="inbox", codename="run_campaigns"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_notify_preferences"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="capability",
            options={"default_permissions": (), "managed": False, "permissions": CAPABILITIES},
        ),
        migrations.RunPython(add_capability, remove_capability),
    ]
