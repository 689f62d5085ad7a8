from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns import live

        # A campaign message's status change nudges the campaign's live page.
        post_save.connect(live.message_saved, sender="conversations.Message", dispatch_uid="campaigns-progress")
