"""Index contact names the way the search selector queries them.

Django's `icontains` emits `UPPER(profile_name::text) LIKE UPPER('%q%')`; a trigram index on the
bare column cannot serve that, so the name (and, through the OR, the number) search scanned the
whole contact table. The index is on the same expression. PostgreSQL only, like 0003.
"""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS contact_name_trgm_idx",
    "CREATE INDEX IF NOT EXISTS contact_name_upper_trgm_idx ON conversations_contact "
    "USING gin ((UPPER(profile_name::text)) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS contact_name_upper_trgm_idx",
    "CREATE INDEX IF NOT EXISTS contact_name_trgm_idx ON conversations_contact USING gin (profile_name gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("conversations", "0004_early_status")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
