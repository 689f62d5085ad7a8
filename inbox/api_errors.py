"""The one error shape of the JSON API: {"error": {"code", "message", ...details}}."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


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
