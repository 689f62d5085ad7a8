"""The one error shape of the JSON API: {"error": {"code", "message", ...details}}.

Everything about it lives here, low, so every router raises and documents the same thing: the
exception handlers answer `ApiError`, and each endpoint lists its possible error answers in
OpenAPI with `READ_ERRORS` or `WRITE_ERRORS`, all pointing to the one `ApiErrorOut` schema.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from ninja import Field, Schema
from pydantic import ConfigDict


class ApiError(Exception):
    """Raised by API handlers (or services, mapped by handlers) to answer with an error."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def error_response(request, status: int, code: str, message: str, **details: Any) -> JsonResponse:
    return JsonResponse(error_body(code, message, **details), status=status)


# --- the shape in OpenAPI -----------------------------------------------------------------------


class ApiErrorDetail(Schema):
    # Details beside code and message differ per code (fields, problems, window_expired_at, ...).
    model_config = ConfigDict(extra="allow")

    code: str = Field(
        ...,
        description="unauthenticated, forbidden, not_found, validation_error, invalid_parameters, window_closed, "
        "template_not_approved, opted_out, wrong_state, budget_exceeded, unavailable, server_error, …",
    )
    message: str


class ApiErrorOut(Schema):
    """The API's one error shape: {"error": {"code", "message", ...details}}."""

    error: ApiErrorDetail


# Every endpoint can answer these: no or a wrong token (401), a role that may not (403), an object
# that does not exist or is not the caller's (404), a request that is not valid (422) and a
# database that cannot be reached (503). Writes that cannot conflict with a state use them too.
READ_ERRORS: dict[int, type[Schema]] = {
    401: ApiErrorOut,
    403: ApiErrorOut,
    404: ApiErrorOut,
    422: ApiErrorOut,
    503: ApiErrorOut,
}
# Writes may also be refused for the state of things (409: window closed, wrong state, opted out).
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 409: ApiErrorOut}
# Sends that cost money may be refused for a spent budget.
SEND_ERRORS: dict[int, type[Schema]] = {**WRITE_ERRORS, 402: ApiErrorOut}
