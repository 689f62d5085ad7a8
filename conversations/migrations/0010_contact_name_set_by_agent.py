"""The name an agent gives a customer, beside the WhatsApp profile name inbound messages update.

Search finds a contact by either name. The agent's name gets the same kind of index as the
profile name (0005): a trigram GIN index on the expression Django's `icontains` emits
(`UPPER(name::text) LIKE UPPER('%q%')`). PostgreSQL only, like 0003 and 0005.
"""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FORWARD = [
    "CREATE INDEX IF NOT EXISTS contact_agent_name_upper_trgm_idx ON conversations_contact "
    "USING gin ((UPPER(name::text)) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS contact_agent_name_upper_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0009_contact_note"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="name",
            field=models.CharField(blank=True, default="", max_length=100, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="contact",
            name="name_set_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="name set at"),
        ),
        migrations.AddField(
            model_name="contact",
            name="name_set_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="name set by",
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="profile_name",
            field=models.CharField(blank=True, default="", max_length=255, verbose_name="WhatsApp profile name"),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
