"""The conversations part of the JSON API (DESIGN.md): threads, messages, replies, search.

Handlers are thin: they check the `work_inbox` capability, read through selectors (so an agent
only ever sees their numbers' conversations; anything else is a 404) and write through services.

This router used to live in conversations/api.py. Each endpoint names its OpenAPI operationId
explicitly, as ninja derived it from that old module path ("conversations_api_<function>"):
generated clients name their methods after these ids, so they are part of the contract.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from conversations import selectors, services
from conversations.exceptions import (
    BudgetExceeded,
    ConversationError,
    InvalidTemplateParameters,
    NotAllowed,
    OptedOut,
    TemplateNotApproved,
    WindowClosed,
)
from conversations.models import Conversation, Message
from core.api_errors import READ_ERRORS, SEND_ERRORS, WRITE_ERRORS, ApiError
from core.cursors import InvalidCursor, Position, split_page
from core.pagination import KeysetPage, keyset_paginated
from core.params import positive_int
from core.roles import perm
from whatsapp.errors import reason_for

router = Router(tags=["conversations"])

MAX_PAGE = 100


# --- schemas ----------------------------------------------------------------------------------


class ContactOut(Schema):
    wa_id: str
    name: str


class WindowOut(Schema):
    open: bool
    expires_at: datetime | None


class UserOut(Schema):
    id: int
    username: str


class ConversationOut(Schema):
    id: int
    contact: ContactOut
    status: str
    assignee: UserOut | None
    window: WindowOut
    last_message_at: datetime | None
    unread: int


class ConversationPage(Schema):
    items: list[ConversationOut]
    next: str | None


class TemplateOut(Schema):
    name: str
    language: str
    category: str = Field("", description="MARKETING, UTILITY or AUTHENTICATION when it was sent")
    parameters: dict[str, Any]


class ErrorOut(Schema):
    code: int | None
    title: str
    reason: str


class MessageOut(Schema):
    id: int
    wamid: str | None
    direction: str
    type: str
    text: str
    status: str
    created_at: datetime
    sender: UserOut | None
    template: TemplateOut | None
    error: ErrorOut | None
    client_id: uuid.UUID
    reply_to: int | None


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class SendIn(Schema):
    text: str | None = None
    template: str | None = None
    language: str | None = None
    parameters: dict[str, Any] | None = None
    # Chosen by the caller; a retried POST with the same client_id never sends twice.
    client_id: uuid.UUID | None = None
    reply_to: int | None = Field(None, description="id of a message of this conversation to quote")


class AssignIn(Schema):
    assignee: int | Literal["me"] | None = Field(..., description='a user id, "me", or null to unassign')


class StatusIn(Schema):
    status: Literal["open", "pending", "resolved", "snoozed"]
    snooze_until: datetime | None = None


class NoteIn(Schema):
    text: str = Field(..., min_length=1)


class LabelIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)


class SearchHit(Schema):
    conversation_id: int
    message_id: int | None
    contact: ContactOut
    text: str
    created_at: datetime | None


class SearchOut(Schema):
    conversations: list[ConversationOut]
    messages: list[SearchHit]


# --- helpers ----------------------------------------------------------------------------------


def _user(request):
    user = request.auth
    if not user.has_perm(perm("work_inbox")):
        raise PermissionDenied(_("Your role does not work the inbox."))
    return user


def _user_out(user) -> dict | None:
    return {"id": user.pk, "username": user.get_username()} if user is not None else None


def conversation_out(conversation: Conversation, *, now: datetime) -> dict:
    contact = conversation.contact
    return {
        "id": conversation.pk,
        # The name agents see: the one an agent set, else the customer's WhatsApp profile name.
        "contact": {"wa_id": contact.wa_id, "name": contact.name or contact.profile_name},
        "status": conversation.status,
        "assignee": _user_out(conversation.assignee),
        "window": {"open": conversation.window_open(now), "expires_at": conversation.window_expires_at()},
        "last_message_at": conversation.last_message_at,
        "unread": conversation.unread_count,
    }


def _error_out(message: Message) -> dict | None:
    if message.status != Message.Status.FAILED:
        return None
    reason = str(reason_for(message.error_code)) if message.error_code else ""
    return {
        "code": message.error_code,
        "title": message.error_title,
        "reason": reason or message.error_details or message.error_title,
    }


def message_out(message: Message) -> dict:
    template = None
    if message.template_name:
        template = {
            "name": message.template_name,
            "language": message.template_language,
            "category": message.template_category,
            "parameters": message.template_parameters,
        }
    return {
        "id": message.pk,
        "wamid": message.wamid,
        "direction": message.direction,
        "type": message.type,
        "text": message.text,
        "status": message.status,
        "created_at": message.created_at,
        "sender": _user_out(message.sender),
        "template": template,
        "error": _error_out(message),
        "client_id": message.client_id,
        "reply_to": message.reply_to_id,
    }


def _limit(value: int) -> int:
    return max(1, min(value, MAX_PAGE))


def service_error(exc: ConversationError) -> ApiError:
    """A conversations refusal as the API's error (also used by the notifications API)."""
    if isinstance(exc, WindowClosed):
        return ApiError(
            409,
            "window_closed",
            exc.message,
            window_expired_at=exc.expired_at.isoformat() if exc.expired_at else None,
        )
    if isinstance(exc, NotAllowed):
        return ApiError(403, "forbidden", exc.message)
    if isinstance(exc, TemplateNotApproved):
        return ApiError(409, "template_not_approved", exc.message, template=exc.template)
    if isinstance(exc, InvalidTemplateParameters):
        return ApiError(422, "invalid_parameters", exc.message, problems=exc.problems)
    if isinstance(exc, OptedOut):
        return ApiError(409, "opted_out", exc.message)
    if isinstance(exc, BudgetExceeded):
        return ApiError(402, "budget_exceeded", exc.message, remaining=exc.remaining, currency=exc.currency)
    return ApiError(422, "validation_error", exc.message)


# --- endpoints --------------------------------------------------------------------------------


@router.get(
    "/conversations",
    response={200: ConversationPage, **READ_ERRORS},
    summary="List conversations",
    operation_id="conversations_api_conversation_list",
)
@keyset_paginated(limit=25, max_limit=MAX_PAGE)
def conversation_list(
    request,
    status: Literal["open", "pending", "resolved", "snoozed"] | None = None,
    assignee: str | None = Query(None, pattern=r"^(me|none|[0-9]{1,18})$", description='a user id, "me" or "none"'),
    window: Literal["open", "closed"] | None = None,
):
    user = _user(request)
    if assignee not in (None, "me", "none") and positive_int(assignee) is None:
        raise ApiError(422, "validation_error", _("assignee is a user id, me or none."), fields={"assignee": assignee})
    now = timezone.now()
    qs = selectors.conversations_for_user(user, status=status, assignee=assignee, window=window, now=now)
    # Keyset on (last_message_at DESC NULLS LAST, id DESC): stable while new messages arrive.
    qs = qs.order_by(F("last_message_at").desc(nulls_last=True), "-id")

    def read_page(after: Position | None, limit: int) -> KeysetPage:
        rows = qs
        if after is not None and after.at is None:
            rows = rows.filter(last_message_at__isnull=True, id__lt=after.pk)
        elif after is not None:
            rows = rows.filter(
                Q(last_message_at__lt=after.at)
                | Q(last_message_at=after.at, id__lt=after.pk)
                | Q(last_message_at__isnull=True)
            )
        items, nxt = split_page(list(rows[: limit + 1]), limit, lambda c: Position(c.last_message_at, c.pk))
        return KeysetPage([conversation_out(c, now=now) for c in items], nxt)

    return read_page


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationOut, **READ_ERRORS},
    summary="One conversation",
    operation_id="conversations_api_conversation_detail",
)
def conversation_detail(request, conversation_id: int):
    user = _user(request)
    return conversation_out(selectors.conversation_for_user(user, conversation_id), now=timezone.now())


@router.get(
    "/conversations/{conversation_id}/messages",
    response={200: MessagePage, **READ_ERRORS},
    summary="A thread's messages",
    operation_id="conversations_api_message_list",
)
@keyset_paginated(limit=50, max_limit=MAX_PAGE)
def message_list(request, conversation_id: int):
    """Newest last. `next` pages towards older messages."""
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)

    def read_page(before: Position | None, limit: int) -> KeysetPage:
        if before is not None and before.at is None:
            raise InvalidCursor("every message has a time")
        items, more = selectors.messages_page(conversation, before=before, limit=limit)
        # The page is newest last, so the next (older) page starts below its first message.
        nxt = Position(items[0].created_at, items[0].pk) if more and items else None
        return KeysetPage([message_out(m) for m in items], nxt)

    return read_page


@router.post(
    "/conversations/{conversation_id}/messages",
    response={202: MessageOut, **SEND_ERRORS},
    summary="Reply with text (inside the window) or a template",
    operation_id="conversations_api_message_create",
)
def message_create(request, conversation_id: int, body: SendIn):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    if body.template:
        if body.text:
            raise ApiError(422, "validation_error", _("Send a text or a template, not both."), fields={"text": "extra"})
        try:
            message = services.message_send_template(
                conversation=conversation,
                sender=user,
                template=body.template,
                language=body.language or "",
                parameters=body.parameters,
                client_id=body.client_id,
            )
        except ConversationError as exc:
            raise service_error(exc) from exc
        return Status(202, message_out(message))
    if not (body.text or "").strip():
        raise ApiError(422, "validation_error", _("Send a text or a template."), fields={"text": "required"})
    reply_to = None
    if body.reply_to is not None:
        reply_to = Message.objects.filter(pk=body.reply_to, conversation=conversation).first()
        if reply_to is None:
            raise ApiError(422, "validation_error", _("No such message to quote."), fields={"reply_to": "unknown"})
    try:
        message = services.message_send_text(
            conversation=conversation, sender=user, text=body.text, reply_to=reply_to, client_id=body.client_id
        )
    except ConversationError as exc:
        raise service_error(exc) from exc
    return Status(202, message_out(message))


@router.post(
    "/conversations/{conversation_id}/notes",
    response={201: MessageOut, **WRITE_ERRORS},
    summary="Add a private note",
    operation_id="conversations_api_note_create",
)
def note_create(request, conversation_id: int, body: NoteIn):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    try:
        note = services.note_add(conversation=conversation, author=user, text=body.text)
    except ConversationError as exc:
        raise service_error(exc) from exc
    return Status(201, message_out(note))


@router.post(
    "/conversations/{conversation_id}/assign",
    response={200: ConversationOut, **WRITE_ERRORS},
    summary="Assign or unassign",
    operation_id="conversations_api_conversation_assign",
)
def conversation_assign(request, conversation_id: int, body: AssignIn):
    from django.contrib.auth import get_user_model

    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    if body.assignee == "me":
        assignee = user
    elif body.assignee is None:
        assignee = None
    else:
        assignee = get_user_model().objects.filter(pk=body.assignee, is_active=True).first()
        if assignee is None:
            raise ApiError(422, "validation_error", _("No such user."), fields={"assignee": body.assignee})
    try:
        services.conversation_assign(conversation=conversation, assignee=assignee, by=user)
    except NotAllowed as exc:
        raise ApiError(422, "validation_error", exc.message, fields={"assignee": body.assignee}) from exc
    return conversation_out(selectors.conversation_for_user(user, conversation_id), now=timezone.now())


@router.post(
    "/conversations/{conversation_id}/status",
    response={200: ConversationOut, **WRITE_ERRORS},
    summary="Change the status",
    operation_id="conversations_api_conversation_status",
)
def conversation_status(request, conversation_id: int, body: StatusIn):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    if body.snooze_until is not None and timezone.is_naive(body.snooze_until):
        raise ApiError(
            422, "validation_error", _("Give snooze_until with a time zone."), fields={"snooze_until": "naive"}
        )
    try:
        services.conversation_status_set(
            conversation=conversation, status=body.status, by=user, snooze_until=body.snooze_until
        )
    except ConversationError as exc:
        raise service_error(exc) from exc
    return conversation_out(selectors.conversation_for_user(user, conversation_id), now=timezone.now())


@router.post(
    "/conversations/{conversation_id}/read",
    response={204: None, **WRITE_ERRORS},
    summary="Mark the thread read",
    operation_id="conversations_api_conversation_read",
)
def conversation_read(request, conversation_id: int):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    services.conversation_mark_read(conversation=conversation, user=user)
    return Status(204, None)


@router.post(
    "/conversations/{conversation_id}/labels",
    response={200: list[str], **WRITE_ERRORS},
    summary="Add a label",
    operation_id="conversations_api_label_add",
)
def label_add(request, conversation_id: int, body: LabelIn):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    try:
        services.conversation_label_add(conversation=conversation, name=body.name, by=user)
    except ConversationError as exc:
        raise service_error(exc) from exc
    return list(conversation.labels.order_by("name").values_list("name", flat=True))


# {path:name}: a label may contain "/" (sent as is or percent-encoded; Django decodes %2F first).
@router.delete(
    "/conversations/{conversation_id}/labels/{path:name}",
    response={200: list[str], **WRITE_ERRORS},
    summary="Remove a label",
    operation_id="conversations_api_label_remove",
)
def label_remove(request, conversation_id: int, name: str):
    user = _user(request)
    conversation = selectors.conversation_for_user(user, conversation_id)
    try:
        services.conversation_label_remove(conversation=conversation, name=name, by=user)
    except ConversationError as exc:
        raise service_error(exc) from exc
    return list(conversation.labels.order_by("name").values_list("name", flat=True))


@router.get(
    "/search",
    response={200: SearchOut, **READ_ERRORS},
    summary="Search messages and contacts",
    operation_id="conversations_api_search",
)
def search(request, q: str = Query(..., min_length=1, max_length=200), limit: int = 20):
    user = _user(request)
    now = timezone.now()
    limit = _limit(limit)
    with selectors.searching():
        conversations = list(selectors.search(user, q, limit=limit)[:limit])  # a page: the fast plan
        hits = selectors.message_search(user, q, limit=limit)
    return {
        "conversations": [conversation_out(c, now=now) for c in conversations],
        "messages": [
            {
                "conversation_id": m.conversation_id,
                "message_id": m.pk,
                "contact": {
                    "wa_id": m.conversation.contact.wa_id,
                    "name": m.conversation.contact.name or m.conversation.contact.profile_name,
                },
                "text": m.text,
                "created_at": m.created_at,
            }
            for m in hits
        ],
    }
