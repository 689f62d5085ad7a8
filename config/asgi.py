"""ASGI entry point: HTTP through Django (the webhook intake in front of it), websockets through Channels."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from inbox.routing import websocket_urlpatterns  # noqa: E402
from webhooks.asgi_intake import WebhookIntake  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Meta's webhook POST is answered in front of Django (webhooks/asgi_intake.py).
        "http": WebhookIntake(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What starting made (modules, settings, URL patterns: most of the heap) lives as long as the
# process. Out of the garbage collector's way, its full passes no longer scan it all in the middle
# of a request: bench/inbox.py's list page p99 went from 89-90 ms to 36-39 ms.
gc.freeze()
