"""`POST /api/v1/notifications` and `GET /api/v1/notifications/{id}` (DESIGN.md)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status

from conversations.exceptions import ConversationError
from conversations.models import Message
from conversations.selectors import numbers_for_user
from core.api_errors import READ_ERRORS, SEND_ERRORS, ApiError
from core.params import NO_NUL
from core.roles import perm
from inbox.api_conversations import service_error
from notifications import services
from whatsapp.errors import reason_for

router = Router(tags=["notifications"])


class NotificationIn(Schema):
    # NO_NUL: these are looked up in SQL, where a NUL character fails the query.
    to: str = Field(..., pattern=NO_NUL, description="the customer's number with country code, e.g. +4915112345678")
    template: str = Field(..., min_length=1, max_length=512, pattern=NO_NUL)
    language: str = Field(..., min_length=1, max_length=16, pattern=NO_NUL)
    parameters: dict[str, Any] | None = None
    phone_number_id: str | None = Field(
        None, pattern=NO_NUL, description="the business number to send from; needed when you may use several"
    )


class BillingOut(Schema):
    category: str
    market: str
    amount: str = Field(..., description="a decimal string")
    currency: str
    state: str = Field("estimated", description="estimated, billable, free or void")


class NotificationError(Schema):
    code: int | None
    reason: str


class NotificationOut(Schema):
    id: int
    status: str
    to: str
    template: str
    language: str
    conversation_id: int
    billing: BillingOut | None
    error: NotificationError | None


def _billing(message: Message) -> dict | None:
    record = message.billing_records.filter(kind="charge").first()
    if record is None:
        return None
    return {
        "category": record.category,
        "market": record.market,
        "amount": str(record.amount),
        "currency": record.currency,
        "state": record.state,
    }


def notification_out(message: Message) -> dict:
    error = None
    if message.status == Message.Status.FAILED:
        reason = str(reason_for(message.error_code)) if message.error_code else ""
        error = {"code": message.error_code, "reason": reason or message.error_details or message.error_title}
    contact = message.conversation.contact
    return {
        "id": message.pk,
        "status": message.status,
        "to": f"+{contact.wa_id}" if contact.wa_id else contact.user_id,
        "template": message.template_name,
        "language": message.template_language,
        "conversation_id": message.conversation_id,
        "billing": _billing(message),
        "error": error,
    }


def _may_send(request) -> None:
    if not request.user.has_perm(perm("send_notifications")):
        raise PermissionDenied(_("Your role may not send notifications."))


@router.post("/notifications", response={202: NotificationOut, **SEND_ERRORS}, summary="Send a template notification")
def notification_create(
    request,
    body: NotificationIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=255),
):
    """Sends an approved template to a phone number; no open conversation is needed.

    With an `Idempotency-Key`, a retried call (also one racing the first) returns the first
    answer and never sends or bills twice; the same key with another body is 422.
    """
    _may_send(request)
    try:
        answer = services.notification_send_once(
            user=request.user, key=idempotency_key, body=body.dict(), render=notification_out
        )
    except services.NotificationError as exc:
        raise ApiError(exc.status, exc.code, exc.message, **exc.details) from exc
    except ConversationError as exc:
        raise service_error(exc) from exc
    return Status(answer.status, answer.body)


@router.get(
    "/notifications/{notification_id}", response={200: NotificationOut, **READ_ERRORS}, summary="A notification"
)
def notification_detail(request, notification_id: int):
    """Its status (queued, sent, delivered, read, failed with Meta's reason in plain words) and billing."""
    _may_send(request)
    visible = Q(conversation__number__in=numbers_for_user(request.user))
    message = get_object_or_404(
        Message.objects.select_related("conversation__contact").filter(visible, direction="out", type="template"),
        pk=notification_id,
    )
    return notification_out(message)
