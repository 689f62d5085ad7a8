from __future__ import annotations

from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from conversations import media, tasks
        from conversations.services import delivery

        # The services hand deliveries and read receipts to these tasks through a seam instead of
        # importing them (the tasks import the services): the dependency points one way. Each
        # task is looked up when called, so `deliveries_collected()` (which collects through
        # `message_deliver.delay`) and tests that replace `delay` still see every publish.
        delivery.workers_register(
            deliver=lambda message_id: tasks.message_deliver.delay(message_id),
            read_receipt=lambda message_id: tasks.message_read_receipt.delay_on_commit(message_id),
        )
        media.downloader_register(lambda message_id: tasks.media_download.delay(message_id))
