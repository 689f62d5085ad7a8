"""Start-up checks for the production shape (DEBUG off)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

# Not tagged `staticfiles`: collectstatic runs those checks first, and must run to fix this one.


@register()
def static_files_collected(app_configs, **kwargs):
    """Without collectstatic's manifest every page that links a static file answers 500."""
    if settings.DEBUG:
        return []
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    if manifest_name is None:
        return []  # a storage without a manifest serves files as they are
    manifest = Path(settings.STATIC_ROOT) / manifest_name
    if manifest.is_file():
        return []
    return [
        Error(
            f"The static files are not collected: {manifest} is missing, so every page would answer 500.",
            hint="Run `python manage.py collectstatic --noinput` (same STATIC_ROOT) before starting the web process.",
            id="inbox.E001",
        )
    ]
