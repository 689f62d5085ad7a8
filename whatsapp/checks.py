"""Start-up check: production without a Cloud API access token can receive but never send.

A warning, not an error (config/checks.py has the errors): webhook intake works without it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register()
def access_token_set(app_configs, **kwargs):
    if settings.DEBUG or settings.WHATSAPP_ACCESS_TOKEN:
        return []
    return [
        Warning(
            "WHATSAPP_ACCESS_TOKEN is not set: nothing can be sent to WhatsApp.",
            hint="Set WHATSAPP_ACCESS_TOKEN to a system-user token from Meta's Business Manager.",
            id="whatsapp.W001",
        )
    ]
