"""The stored events are the processor's queue: an index over what waits, and a NOTIFY per INSERT
statement so a sleeping processor wakes at once (PostgreSQL only; elsewhere it polls)."""

from django.db import migrations, models
from django.db.models import Q

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION webhooks_event_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('webhook_events', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhooks_event_notify AFTER INSERT ON webhooks_webhookevent
    FOR EACH STATEMENT EXECUTE FUNCTION webhooks_event_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS webhooks_event_notify ON webhooks_webhookevent;
DROP FUNCTION IF EXISTS webhooks_event_notify();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NOTIFY_FUNCTION)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="webhookevent",
            # The processor's claim: received events in arrival order (webhooks.processor).
            index=models.Index(fields=["id"], condition=Q(state="received"), name="webhook_queue_idx"),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
