"""`POST|GET /api/v1/callbacks` and `DELETE /api/v1/callbacks/{id}`: where status changes go."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from core.api_errors import READ_ERRORS, ApiError
from core.roles import perm
from notifications import callbacks

router = Router(tags=["callbacks"])


class CallbackIn(Schema):
    url: str = Field(
        ..., max_length=1000, pattern=r"^https?://[^\x00]*$", description="https URL that receives the status changes"
    )


class CallbackOut(Schema):
    id: int
    url: str
    created_at: datetime


class CallbackCreated(CallbackOut):
    secret: str = Field(..., description="shown only now: verify each POST's signature with it")


def _may(request) -> None:
    if not request.user.has_perm(perm("send_notifications")):
        raise PermissionDenied(_("Your role may not send notifications."))


@router.post("/callbacks", response={201: CallbackCreated, **READ_ERRORS}, summary="Register a delivery callback")
def callback_create(request, body: CallbackIn):
    """Every status change of the notifications you send is POSTed there, signed (see the docs)."""
    _may(request)
    try:
        callback, secret = callbacks.callback_register(user=request.user, url=body.url)
    except callbacks.CallbackError as exc:
        raise ApiError(422, "validation_error", str(exc), fields={"url": "invalid"}) from exc
    return Status(201, {"id": callback.pk, "url": callback.url, "created_at": callback.created_at, "secret": secret})


@router.get("/callbacks", response={200: list[CallbackOut], **READ_ERRORS}, summary="Your delivery callbacks")
def callback_list(request):
    _may(request)
    return list(callbacks.callbacks_for(request.user))


@router.delete("/callbacks/{callback_id}", response={204: None, **READ_ERRORS}, summary="Remove a delivery callback")
def callback_remove(request, callback_id: int):
    _may(request)
    callback = get_object_or_404(callbacks.callbacks_for(request.user), pk=callback_id)
    callbacks.callback_delete(callback=callback)
    return Status(204, None)
