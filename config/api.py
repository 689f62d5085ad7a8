"""The JSON API under /api/v1/: one NinjaAPI, routers from the apps, one error shape.

Every error is {"error": {"code": CODE, "message": TEXT, ...details}} (DESIGN.md), also for what
never reaches a handler: an unknown path (404 not_found), a method a path does not take (405
method_not_allowed), a write without credentials (401, not a CSRF refusal) and a database that
is down (503 unavailable). Every answer carries `Cache-Control: no-store`.
"""

from __future__ import annotations

import asyncio
import logging
from functools import update_wrapper

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpResponseNotAllowed
from django.urls import re_path
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from core.api_errors import ApiError, error_response
from core.pagination import KeysetPagination
from inbox.api_auth import BearerTokenAuth, SessionAuth

logger = logging.getLogger(__name__)


class CsrfOnlyForSessionsAuth(SessionAuth):
    """The browser session, with CSRF checked only when there is a signed-in session to protect.

    Without a session the request is simply unauthenticated (401): a caller with no token or a
    wrong one must hear that, not "CSRF check failed". A signed-in browser's write without the
    CSRF token is still refused (403).
    """

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise ApiError(
                403,
                "forbidden",
                _("CSRF check failed: send the X-CSRFToken header from the csrftoken cookie, or use a bearer token."),
            ) from exc


def _docs_guard(view):
    """The OpenAPI document and /docs: public when API_DOCS_PUBLIC, else signed-in users or tokens."""

    def guarded(request, *args, **kwargs):
        if settings.API_DOCS_PUBLIC or request.user.is_authenticated or BearerTokenAuth()(request):
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return error_response(request, 401, "unauthenticated", _("Sign in or send Authorization: Bearer <token>."))
        return redirect_to_login(request.get_full_path())

    return guarded


def _not_found_response(request):
    return error_response(request, 404, "not_found", _("No such object, or not one you can see."))


def _method_not_allowed(request, refused: HttpResponseNotAllowed):
    response = error_response(
        request,
        405,
        "method_not_allowed",
        _("%(method)s is not allowed here; use %(allowed)s.") % {"method": request.method, "allowed": refused["Allow"]},
        allowed=sorted(refused["Allow"].split(", ")),
    )
    response["Allow"] = refused["Allow"]
    return response


def _in_contract(response, request):
    if isinstance(response, HttpResponseNotAllowed):
        response = _method_not_allowed(request, response)
    patch_cache_control(response, no_store=True)
    return response


def _contract_view(view):
    """Wrap one URL's view: 405s and stray 404s in the error shape, and no-store on the answer."""
    if asyncio.iscoroutinefunction(view):

        async def wrapper(request, *args, **kwargs):
            try:
                response = await view(request, *args, **kwargs)
            except Http404:
                response = _not_found_response(request)
            return _in_contract(response, request)

    else:

        def wrapper(request, *args, **kwargs):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = _not_found_response(request)
            return _in_contract(response, request)

    update_wrapper(wrapper, view, assigned=("__module__", "__doc__"), updated=())
    wrapper.csrf_exempt = getattr(view, "csrf_exempt", False)
    return wrapper


def _unknown_path(request, rest: str = ""):
    return _not_found_response(request)


_unknown_path.csrf_exempt = True


class InboxApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        # ninja's @paginate also lists the paginator's query model among the schemas, though
        # its fields (cursor, limit) are already each endpoint's parameters and nothing refers
        # to it: the document keeps to what clients use.
        schema.get("components", {}).get("schemas", {}).pop(KeysetPagination.INPUT_SCHEMA_NAME, None)
        return schema

    def _get_urls(self):
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = _contract_view(pattern.callback)
        # Last, after every router's paths whatever order they were added in.
        # [\s\S], not ".": a path with a newline (%0A) must not fall through to Django's HTML 404.
        patterns.append(re_path(r"^(?P<rest>[\s\S]*)$", _contract_view(_unknown_path), name="not-found"))
        return patterns


api = InboxApi(
    title="WhatsApp inbox API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), CsrfOnlyForSessionsAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs_decorator=_docs_guard,
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.code, exc.message, **exc.details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(request, 401, "unauthenticated", "Sign in or send Authorization: Bearer <token>.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error_response(request, 403, "forbidden", str(exc) or "Your role may not do this.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", "No such object, or not one you can see.")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, exc):
    # PostgreSQL is down or restarting: a retry shortly will work; never an HTML 500.
    logger.warning("API answered 503, database unavailable: %s", exc)
    response = error_response(
        request, 503, "unavailable", _("The database cannot be reached right now; try again shortly.")
    )
    response["Retry-After"] = "5"
    return response


@api.exception_handler(DataError)
def _data_error(request, exc):
    # PostgreSQL refused a value the request brought (a NUL character in text, a number out of
    # range): the input is invalid, so 422, not a 500. Logged, in case a value was our own.
    logger.warning("API %s %s: the database refused a value: %s", request.method, request.path, exc)
    return error_response(
        request,
        422,
        "validation_error",
        _("The request contains a value that cannot be stored (such as a NUL character)."),
    )


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    return error_response(request, 422, "validation_error", "The request is not valid.", fields=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:
        # ninja's "Cannot parse request body": a body that is not JSON is invalid input like any
        # other, so it is the contract's 422 validation_error, not a status no endpoint documents.
        return error_response(request, 422, "validation_error", _("The request body is not valid JSON."))
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
    code = codes.get(exc.status_code, "validation_error" if exc.status_code < 500 else "server_error")
    return error_response(request, exc.status_code, code, str(exc))


@api.exception_handler(Exception)
def _server_error(request, exc: Exception):
    # A bug, not the caller's fault: logged with its traceback, answered in the error shape.
    logger.error("API %s %s failed", request.method, request.path, exc_info=exc)
    return error_response(request, 500, "server_error", _("Something went wrong on our side; it has been logged."))


from inbox.api import router as me_router  # noqa: E402

api.add_router("", me_router)

from inbox.api_conversations import router as conversations_router  # noqa: E402

api.add_router("", conversations_router)

from templates_app.api import router as templates_router  # noqa: E402

api.add_router("", templates_router)

from billing.api import router as billing_router  # noqa: E402

api.add_router("", billing_router)

from notifications.api import router as notifications_router  # noqa: E402

api.add_router("", notifications_router)

from notifications.callbacks_api import router as callbacks_router  # noqa: E402

api.add_router("", callbacks_router)
