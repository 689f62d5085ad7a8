"""Full-text and fuzzy search indexes (PostgreSQL only; the embedded SQLite default skips them).

They are raw SQL rather than Meta.indexes because SQLite (`make run`) cannot build them; the
search selector falls back to plain LIKE there.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # search(): message text, `to_tsvector('simple', text) @@ query` (the selector uses this exact expression).
    "CREATE INDEX IF NOT EXISTS msg_text_fts_idx ON conversations_message "
    "USING gin (to_tsvector('simple', text))",
    # search(): contact names and numbers by substring (ILIKE '%q%' uses trigram GIN indexes).
    "CREATE INDEX IF NOT EXISTS contact_name_trgm_idx ON conversations_contact "
    "USING gin (profile_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contact_wa_id_trgm_idx ON conversations_contact USING gin (wa_id gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS msg_text_fts_idx",
    "DROP INDEX IF EXISTS contact_name_trgm_idx",
    "DROP INDEX IF EXISTS contact_wa_id_trgm_idx",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("conversations", "0002_labels_canned_played")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
