"""Start-up checks: production must not run on development defaults."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def required_secrets(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    errors = []
    if not settings.SECRET_KEY_FROM_ENV:
        errors.append(
            Error(
                "SECRET_KEY is not set.",
                hint="Set SECRET_KEY (or SECRET_KEY_FILE) to a long random string.",
                id="config.E001",
            )
        )
    for name, check_id in (
        ("WHATSAPP_APP_SECRET", "config.E002"),
        ("WHATSAPP_VERIFY_TOKEN", "config.E003"),
    ):
        if not getattr(settings, name):
            errors.append(
                Error(f"{name} is not set.", hint=f"Set {name} to the value from Meta's App Dashboard.", id=check_id)
            )
    return errors
