from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the start-up checks)
        from inbox import checks as inbox_checks  # noqa: F401  (the static files manifest)

        # The groups come from a data migration; this keeps them in step with core/roles.py
        # afterwards, and recreates them after a flush (which empties every table).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="inbox.sync_roles")
        from inbox import access_changes

        access_changes.connect()
        from conversations import events
        from inbox import live

        # The processor renders each batch's list rows once, for every web process's sockets.
        events.prerender_batches_with(live.rows_for_batch)


def _sync_roles(sender, using="default", **kwargs) -> None:
    from core.roles import sync_role_groups

    sync_role_groups(using=using)
