from __future__ import annotations

from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"

    def ready(self) -> None:
        from whatsapp import checks  # noqa: F401  (registers the system check)
