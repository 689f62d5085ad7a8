"""An index on the inbox list's order alone (newest activity first), for lists over several numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0010_contact_name_set_by_agent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["-last_message_at", "-id"], name="conv_recent_idx"),
        ),
    ]
