"""The JSON API under /api/v1/: one NinjaAPI, routers from the apps, one error shape.

Every error is {"error": {"code": CODE, "message": TEXT, ...details}} (DESIGN.md).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from inbox.api_auth import BearerTokenAuth, SessionAuth
from inbox.api_errors import ApiError, error_response

api = NinjaAPI(
    title="WhatsApp inbox API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
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


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    return error_response(request, 422, "validation_error", "The request is not valid.", fields=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
    code = codes.get(exc.status_code, "validation_error" if exc.status_code < 500 else "server_error")
    return error_response(request, exc.status_code, code, str(exc))


from inbox.api import router as me_router  # noqa: E402

api.add_router("", me_router)

from conversations.api import router as conversations_router  # noqa: E402

api.add_router("", conversations_router)

from templates_app.api import router as templates_router  # noqa: E402

api.add_router("", templates_router)

from billing.api import router as billing_router  # noqa: E402

api.add_router("", billing_router)
