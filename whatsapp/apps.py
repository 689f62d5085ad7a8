from __future__ import annotations

from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"
