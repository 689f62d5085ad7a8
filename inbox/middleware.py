"""Show times in the viewer's time zone: their saved setting, else the browser's."""

from __future__ import annotations

import logging
import zoneinfo

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import get_exception_response, response_for_exception
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import Http404, HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf, resolve
from django.utils import timezone
from django.utils.html import escape

from core.api_errors import error_response

logger = logging.getLogger(__name__)

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


# What the pages may do: load and run only our own files (no inline script, no eval: htmx's
# trigger filters and hx-on would need it, so the pages use neither), no plugins, no <base> or
# form posts to other sites, no framing. Inline styles stay allowed: htmx adds its indicator
# style, and progress bars set their widths in style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# --- the database is down or restarting ----------------------------------------------------------

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON in the API's error shape, a bare page elsewhere (the site's
    templates would reach for the database again)."""
    from django.utils.translation import gettext as _

    message = _("The database cannot be reached right now; try again shortly.")
    if request.path.startswith("/api/"):
        response = error_response(request, 503, "unavailable", message)
    else:
        response = HttpResponse(
            f"<!doctype html><meta charset=utf-8><title>503</title><h1>{escape(message)}</h1>", status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is down or restarting, pages and the API answer 503, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            # The first database touch of a request (the session, then the user): done here, so
            # a failure is answered here instead of in a later middleware.
            user = getattr(request, "user", None)
            if user is not None:
                user.is_authenticated  # noqa: B018  (evaluates the lazy user)
        except DATABASE_ERRORS as exc:
            logger.warning("answered 503, database unavailable: %s", exc)
            return database_unavailable(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("answered 503, database unavailable: %s", exception)
            return database_unavailable(request)
        return None


def reads_planned_once(view):
    """Mark a page that only reads (but for marking a thread read) for ReadsPlannedOnceMiddleware."""
    view.reads_planned_once = True
    return view


class ReadsPlannedOnceMiddleware:
    """The inbox's list and thread pages let PostgreSQL reuse the plans of their prepared statements.

    Every connection plans each run of a statement for its own values (config/env.py: a plan
    made once cannot use the queues' partial indexes, whose conditions name a value). For these
    pages' reads that planning was most of PostgreSQL's work: over a thread pane's statements,
    3.2 ms of planning against 1.2 ms of execution (bench/inbox.py's data). A GET of a view
    marked `reads_planned_once` therefore runs in one transaction that allows reused plans for
    its own statements only (SET LOCAL ends with the transaction): the session, the user and
    the page's reads; work the page leaves for after its commit (a read receipt) is planned per
    run. Opt-in, not every GET: a reused plan does not know how common a searched word is
    (conversations.selectors.searching plans a search per run again), nor how long a month is.

    Outside DatabaseUnavailableMiddleware, which first reads the user: so a database that is
    down is answered 503 here too, when the transaction starts or commits.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._marked(request) or connection.vendor != "postgresql":
            return self.get_response(request)
        try:
            # savepoint=False: inside a test's transaction, no savepoint framing around the page.
            with transaction.atomic(savepoint=False):
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL plan_cache_mode = auto")
                return self.get_response(request)
        except DATABASE_ERRORS as exc:
            logger.warning("answered 503, database unavailable: %s", exc)
            return database_unavailable(request)

    @staticmethod
    def _marked(request) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return getattr(match.func, "reads_planned_once", False)


class ErrorPagesInRequestThreadMiddleware:
    """Render 403 and 404 pages in the request's own thread.

    Left to Django's exception handling, they render in a worker thread of their own under
    ASGI, whose navigation (inbox.context_processors) needs a second pooled connection while the
    request still holds its first: while the pool is short (PostgreSQL just came back) such a
    page waited for the pool and failed with a 500. Innermost in MIDDLEWARE: a URL that matches
    nothing is answered here (CommonMiddleware still adds the slash), a view's 403 or 404 in
    process_exception.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404 as exc:
            return self._error_page(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (PermissionDenied, Http404)):
            return self._error_page(request, exception)
        return None

    def _error_page(self, request, exception):
        try:
            if isinstance(exception, Http404):
                # The app's own 404 page in every mode. With DEBUG on (`make run`) Django would
                # show its technical 404, which lists every URL pattern; DEBUG still keeps the
                # traceback page for 500s, where it helps.
                return get_exception_response(request, get_resolver(get_urlconf()), 404, exception)
            return response_for_exception(request, exception)
        except DATABASE_ERRORS as exc:
            logger.warning("answered 503, database unavailable: %s", exc)
            return database_unavailable(request)
