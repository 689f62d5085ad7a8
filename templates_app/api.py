"""The templates endpoints of the JSON API (DESIGN.md).

Admins (manage_templates) see and write every template and approve others' (four-eyes);
agents see only the templates they may send; finance reads. Handlers are thin: selectors to
read, services to write, and the services' refusals mapped to the API's error codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from core.api_errors import READ_ERRORS, WRITE_ERRORS, ApiError
from core.params import NO_NUL, positive_int
from core.roles import perm
from templates_app import selectors, services
from templates_app.exceptions import FourEyesViolation, NotAllowed, TemplateValidationError, WrongState
from templates_app.models import Template, TemplateEvent, TemplateVersion

router = Router(tags=["templates"])

MAX_PAGE = 100


# --- schemas ----------------------------------------------------------------------------------


class ProblemOut(Schema):
    field: str
    message: str


class TemplateIn(Schema):
    """Meta's own template JSON (`POST /{WABA_ID}/message_templates`)."""

    name: str = ""
    language: str = ""
    category: str = Field("", description="MARKETING, UTILITY or AUTHENTICATION")
    parameter_format: str | None = Field(None, description="positional (default) or named")
    components: list[dict[str, Any]] = Field(
        default_factory=list, description="HEADER, BODY, FOOTER and BUTTONS components, with examples"
    )
    waba_id: str | None = Field(None, description="the business account; optional when there is only one")


class RejectIn(Schema):
    reason: str = Field(..., description="what the author should change")


class UserOut(Schema):
    id: int
    username: str


class TemplateOut(Schema):
    id: int
    waba_id: str
    name: str
    language: str
    category: str
    parameter_format: str
    status: str = Field(..., description="draft, in_review, rejected_internally, submitting, or Meta's status")
    meta_status: str
    quality: str
    imported: bool
    usable: bool
    updated_at: datetime


class VersionOut(Schema):
    number: int
    state: str
    category: str
    components: list[dict[str, Any]]
    author: UserOut | None
    reviewer: UserOut | None
    reviewed_at: datetime | None
    reject_reason: str
    meta_error: str


class EventOut(Schema):
    kind: str
    version: int | None
    actor: UserOut | None
    from_value: str
    to_value: str
    detail: dict[str, Any]
    at: datetime


class TemplateDetailOut(TemplateOut):
    reason: str = Field(..., description="Meta's reason (e.g. INVALID_FORMAT)")
    reason_detail: str
    recommendation: str
    correct_category: str = Field(..., description="the category Meta announced it will move the template to")
    category_change_at: datetime | None
    components: list[dict[str, Any]]
    sending_version: int | None
    versions: list[VersionOut]
    history: list[EventOut]
    warnings: list[ProblemOut]


class TemplatePage(Schema):
    items: list[TemplateOut]
    next: str | None


# --- helpers ----------------------------------------------------------------------------------


def _can_manage(user) -> bool:
    return user.has_perm(perm("manage_templates"))


def _reader(request):
    user = request.auth
    if not any(
        user.has_perm(perm(c)) for c in ("manage_templates", "view_billing", "send_notifications", "work_inbox")
    ):
        raise PermissionDenied(_("Your role may not see templates."))
    return user


def _manager(request):
    user = request.auth
    if not _can_manage(user):
        raise PermissionDenied(_("Only admins may write, approve or reject templates."))
    return user


def _sees_all(user) -> bool:
    return _can_manage(user) or user.has_perm(perm("view_billing"))


def _user_out(user) -> dict | None:
    return {"id": user.pk, "username": user.get_username()} if user is not None else None


def template_out(template: Template) -> dict:
    return {
        "id": template.pk,
        "waba_id": template.waba_id,
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "parameter_format": template.parameter_format,
        "status": selectors.template_status(template),
        "meta_status": template.meta_status,
        "quality": template.quality,
        "imported": template.imported,
        "usable": bool(
            selectors.meta_allows_sending(template)
            and template.sending_version_id
            and template.sending_version.state == TemplateVersion.State.APPROVED
        ),
        "updated_at": template.updated_at,
    }


def _version_out(version: TemplateVersion) -> dict:
    return {
        "number": version.number,
        "state": version.state,
        "category": version.category,
        "components": version.components,
        "author": _user_out(version.author),
        "reviewer": _user_out(version.reviewer),
        "reviewed_at": version.reviewed_at,
        "reject_reason": version.reject_reason,
        "meta_error": version.meta_error,
    }


def _event_out(event: TemplateEvent) -> dict:
    return {
        "kind": event.kind,
        "version": event.version.number if event.version else None,
        "actor": _user_out(event.actor),
        "from_value": event.from_value,
        "to_value": event.to_value,
        "detail": event.detail,
        "at": event.at,
    }


def template_detail_out(template: Template) -> dict:
    from templates_app.validation import template_warnings

    components = template.current_version.components if template.current_version else []
    return {
        **template_out(template),
        "reason": template.meta_reason,
        "reason_detail": template.meta_reason_detail,
        "recommendation": template.meta_recommendation,
        "correct_category": template.correct_category,
        "category_change_at": template.category_change_at,
        "components": components,
        "sending_version": template.sending_version.number if template.sending_version else None,
        "versions": [_version_out(v) for v in selectors.template_versions(template)],
        "history": [_event_out(e) for e in selectors.template_history(template)],
        "warnings": template_warnings({"components": components}),
    }


def _agent_wabas(user) -> list[str]:
    """The business accounts of the numbers an agent works: their templates are theirs to send."""
    from conversations.selectors import numbers_for_user

    return list(numbers_for_user(user).values_list("waba_id", flat=True).distinct())


def _visible(user, template_id: int) -> Template:
    template = selectors.template_get(template_id)
    if not _sees_all(user) and (not template_out(template)["usable"] or template.waba_id not in _agent_wabas(user)):
        raise Http404
    return template


def _waba_for(body: TemplateIn) -> str:
    if body.waba_id:
        return body.waba_id
    from conversations.models import BusinessNumber

    wabas = sorted(set(BusinessNumber.objects.values_list("waba_id", flat=True)))
    if len(wabas) != 1:
        raise ApiError(
            422,
            "validation_error",
            _("Say which business account (waba_id) the template is for."),
            problems=[
                {"field": "waba_id", "message": _("waba_id: choose one of %(ids)s.") % {"ids": ", ".join(wabas)}}
            ],
        )
    return wabas[0]


def _refusal(exc: Exception):
    if isinstance(exc, FourEyesViolation | NotAllowed):
        return ApiError(403, "forbidden", exc.message)
    if isinstance(exc, TemplateValidationError):
        return ApiError(422, "validation_error", _("The template has problems."), problems=exc.problems)
    if isinstance(exc, WrongState):
        return ApiError(409, "wrong_state", exc.message)
    raise exc


# --- endpoints --------------------------------------------------------------------------------


@router.get("/templates", response={200: TemplatePage, **READ_ERRORS}, summary="List templates")
def template_list(
    request,
    status: str | None = Query(None, pattern=NO_NUL),
    category: str | None = Query(None, pattern=NO_NUL),
    language: str | None = Query(None, pattern=NO_NUL),
    waba_id: str | None = Query(None, pattern=NO_NUL),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$", description="the `next` of the page before"),
    limit: int = 50,
):
    """Admins and finance see every template; agents only those they may send now."""
    user = _reader(request)
    qs = selectors.templates_list(
        waba_id=waba_id,
        status=(status or "").lower(),
        category=category or "",
        language=language or "",
        usable_only=not _sees_all(user),
    ).order_by("id")
    if not _sees_all(user):
        qs = qs.filter(waba_id__in=_agent_wabas(user))
    if cursor:
        after = positive_int(cursor)
        if after is None:
            raise ApiError(422, "validation_error", _("The cursor is not valid."), fields={"cursor": "invalid"})
        qs = qs.filter(id__gt=after)
    limit = max(1, min(limit, MAX_PAGE))
    page = list(qs[: limit + 1])
    items = [template_out(t) for t in page[:limit]]
    return {"items": items, "next": str(page[limit - 1].pk) if len(page) > limit else None}


@router.post("/templates", response={201: TemplateDetailOut, **READ_ERRORS}, summary="Write a template")
def template_create(request, body: TemplateIn):
    """Takes Meta's template JSON; it goes to the review queue, for a second admin to approve."""
    user = _manager(request)
    data = body.dict(exclude={"waba_id"})
    if data.get("parameter_format") is None:
        data.pop("parameter_format")
    try:
        template = services.template_create(
            author=user, waba_id=_waba_for(body), data=data, now=timezone.now(), submit=True
        )
    except (TemplateValidationError, NotAllowed) as exc:
        raise _refusal(exc) from None
    return Status(201, template_detail_out(selectors.template_get(template.pk)))


@router.get("/templates/{template_id}", response={200: TemplateDetailOut, **READ_ERRORS}, summary="One template")
def template_detail(request, template_id: int):
    user = _reader(request)
    return template_detail_out(_visible(user, template_id))


@router.post(
    "/templates/{template_id}/approve",
    response={200: TemplateDetailOut, **WRITE_ERRORS},
    summary="Approve (an admin other than the author); submits it to Meta",
)
def template_approve(request, template_id: int):
    user = _manager(request)
    template = selectors.template_get(template_id)
    if template.current_version is None:
        raise ApiError(409, "wrong_state", _("The template has no version to approve."))
    try:
        services.template_approve(version=template.current_version, reviewer=user, now=timezone.now())
    except (FourEyesViolation, NotAllowed, WrongState) as exc:
        raise _refusal(exc) from None
    return template_detail_out(selectors.template_get(template_id))


@router.post(
    "/templates/{template_id}/reject",
    response={200: TemplateDetailOut, **WRITE_ERRORS},
    summary="Send it back to its author with a reason",
)
def template_reject(request, template_id: int, body: RejectIn):
    user = _manager(request)
    template = selectors.template_get(template_id)
    if template.current_version is None:
        raise ApiError(409, "wrong_state", _("The template has no version to reject."))
    try:
        services.template_reject(
            version=template.current_version, reviewer=user, reason=body.reason, now=timezone.now()
        )
    except (TemplateValidationError, NotAllowed, WrongState) as exc:
        raise _refusal(exc) from None
    return template_detail_out(selectors.template_get(template_id))
