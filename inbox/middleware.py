"""Show times in the viewer's time zone: their saved setting, else the browser's."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

TZ_COOKIE = "tz"


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            zone = _zone(profile.time_zone) if profile else None
        zone = zone or _zone(request.COOKIES.get(TZ_COOKIE, ""))
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


# What the pages may do, as far as it costs nothing to the pages as they are: no plugins, no
# <base> or form posts to other sites, no framing. Scripts and styles are not restricted yet:
# the templates still carry inline scripts (base.html's time zone cookie), which a script-src
# policy would block; moving them to static files is the next step.
CONTENT_SECURITY_POLICY = "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
