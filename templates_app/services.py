"""The authoring workflow: write, submit for review, approve (four-eyes) or reject, then submit to Meta.

Meta's side (webhooks, sync, send errors) lives in `services_meta` and is re-exported here, so
callers need one module: `templates_app.services`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from core.roles import perm
from templates_app import validation
from templates_app.exceptions import FourEyesViolation, NotAllowed, TemplateValidationError, WrongState
from templates_app.history import event_add
from templates_app.models import MetaStatus, Template, TemplateEvent, TemplateVersion
from templates_app.services_meta import (  # noqa: F401  (re-exported: the one services module)
    STAGES,
    stage_of,
    template_category_apply,
    template_meta_refused,
    template_meta_submitted,
    template_quality_apply,
    template_send_error_apply,
    template_status_apply,
    templates_sync,
)
from whatsapp.schemas import normalise_language

Kind = TemplateEvent.Kind
State = TemplateVersion.State


def _require_admin(user) -> None:
    if user is None or not user.is_authenticated or not user.has_perm(perm("manage_templates")):
        raise NotAllowed(_("Only admins may write, approve or reject templates."))


def meta_json(*, template: Template, version: TemplateVersion) -> dict:
    """The body of `POST /{WABA_ID}/message_templates` for this version."""
    return {
        "name": template.name,
        "language": template.language,
        "category": version.category,
        "parameter_format": template.parameter_format,
        "components": version.components,
    }


def _clean(data: dict) -> dict:
    """Meta's template JSON with the language and enums in the form we store."""
    return {
        **data,
        "language": normalise_language(str(data.get("language") or "")),
        "category": str(data.get("category") or "").upper(),
        "parameter_format": str(data.get("parameter_format") or "positional").lower(),
    }


@transaction.atomic
def template_create(*, author, waba_id: str, data: dict, now: datetime, submit: bool = False) -> Template:
    """A new template with its first (draft) version; `submit` puts it in the review queue at once.

    Raises TemplateValidationError listing every problem Meta would reject it for, or a
    taken name and language.
    """
    _require_admin(author)
    problems = validation.validate_template(data)
    if problems:
        raise TemplateValidationError(problems)
    data = _clean(data)
    if Template.objects.filter(waba_id=waba_id, name=data["name"], language=data["language"]).exists():
        raise TemplateValidationError(
            [
                validation.problem(
                    "name",
                    _("Name: a template %(name)s in %(language)s already exists; edit that one instead.")
                    % {"name": data["name"], "language": data["language"]},
                )
            ]
        )
    template = Template.objects.create(
        waba_id=waba_id,
        name=data["name"],
        language=data["language"],
        category=data["category"],
        parameter_format=data["parameter_format"],
        created_by=author,
    )
    version = TemplateVersion.objects.create(
        template=template, number=1, category=data["category"], components=data["components"], author=author
    )
    template.current_version = version
    template.save(update_fields=["current_version", "updated_at"])
    event_add(template, Kind.CREATED, at=now, version=version, actor=author, to_value=State.DRAFT)
    if submit:
        _submit(template=template, version=version, by=author, now=now)
    return template


@transaction.atomic
def template_update(*, template: Template, by, data: dict, now: datetime) -> TemplateVersion:
    """Change the content. A draft is changed in place (one under review goes back to draft);
    an approved or rejected version stays as it was and a new draft version is made, so the
    version Meta approved keeps sending until the new one is approved."""
    _require_admin(by)
    template = Template.objects.select_for_update().get(pk=template.pk)
    data = _clean({**data, "name": template.name, "language": template.language})
    if template.meta_template_id:
        # Fixed at Meta once submitted.
        data["parameter_format"] = template.parameter_format
    problems = validation.validate_template(data)
    if problems:
        raise TemplateValidationError(problems)
    current = template.current_version
    # In place only while Meta has never seen it (an imported version awaiting review has been).
    if current is not None and current.state in (State.DRAFT, State.IN_REVIEW) and current.meta_submitted_at is None:
        was = current.state
        current.components = data["components"]
        current.category = data["category"]
        current.author = by
        current.state = State.DRAFT
        current.submitted_at = None
        current.save(update_fields=["components", "category", "author", "state", "submitted_at"])
        version = current
        detail = {"withdrawn_from_review": True} if was == State.IN_REVIEW else {}
    else:
        number = (current.number if current else 0) + 1
        version = TemplateVersion.objects.create(
            template=template, number=number, category=data["category"], components=data["components"], author=by
        )
        template.current_version = version
        detail = {"new_version": number}
    if not template.meta_template_id:
        template.category = data["category"]
        template.parameter_format = data["parameter_format"]
    template.save(update_fields=["current_version", "category", "parameter_format", "updated_at"])
    event_add(template, Kind.EDITED, at=now, version=version, actor=by, to_value=State.DRAFT, detail=detail)
    return version


def _submit(*, template: Template, version: TemplateVersion, by, now: datetime) -> None:
    version.state = State.IN_REVIEW
    version.submitted_at = now
    version.save(update_fields=["state", "submitted_at"])
    event_add(
        template, Kind.SUBMITTED, at=now, version=version, actor=by, from_value=State.DRAFT, to_value=State.IN_REVIEW
    )


@transaction.atomic
def template_submit_for_review(*, template: Template, by, now: datetime) -> TemplateVersion:
    """The current draft goes into the review queue, for a second admin."""
    _require_admin(by)
    template = Template.objects.select_for_update().get(pk=template.pk)
    version = template.current_version
    if version is None or version.state != State.DRAFT:
        raise WrongState(_("Only a draft can be submitted for review."))
    _submit(template=template, version=version, by=by, now=now)
    return version


def _locked_version(version: TemplateVersion) -> tuple[Template, TemplateVersion]:
    # Lock order: template, then version (as every writer here does).
    template = Template.objects.select_for_update().get(pk=version.template_id)
    return template, TemplateVersion.objects.select_for_update().get(pk=version.pk)


@transaction.atomic
def template_approve(*, version: TemplateVersion, reviewer, now: datetime) -> TemplateVersion:
    """A second admin approves; then the version goes to Meta (a task, after commit).

    Refuses non-admins (NotAllowed) and the version's author (FourEyesViolation). An imported
    template is already at Meta: approving it only allows sending it.
    """
    _require_admin(reviewer)
    template, version = _locked_version(version)
    if version.author_id is not None and version.author_id == reviewer.pk:
        raise FourEyesViolation()
    if version.state != State.IN_REVIEW:
        raise WrongState(_("Only a version awaiting review can be approved."))
    version.state = State.APPROVED
    version.reviewer = reviewer
    version.reviewed_at = now
    version.save(update_fields=["state", "reviewer", "reviewed_at"])
    event_add(
        template,
        Kind.APPROVED,
        at=now,
        version=version,
        actor=reviewer,
        from_value=State.IN_REVIEW,
        to_value=State.APPROVED,
    )
    if version.meta_submitted_at is not None:
        # Imported: Meta has it already. It sends once Meta's status allows.
        if template.meta_status == MetaStatus.APPROVED:
            template.sending_version = version
            template.save(update_fields=["sending_version", "updated_at"])
        return version
    from templates_app.tasks import template_submit_to_meta

    version_id = version.pk
    transaction.on_commit(lambda: template_submit_to_meta.delay(version_id))
    return version


@transaction.atomic
def template_reject(*, version: TemplateVersion, reviewer, reason: str, now: datetime) -> TemplateVersion:
    """Send it back to its author with a reason (the author may withdraw their own this way)."""
    _require_admin(reviewer)
    reason = (reason or "").strip()
    if not reason:
        raise TemplateValidationError([validation.problem("reason", _("Reason: say what the author should change."))])
    template, version = _locked_version(version)
    if version.state != State.IN_REVIEW:
        raise WrongState(_("Only a version awaiting review can be rejected."))
    version.state = State.REJECTED
    version.reviewer = reviewer
    version.reviewed_at = now
    version.reject_reason = reason
    version.save(update_fields=["state", "reviewer", "reviewed_at", "reject_reason"])
    event_add(
        template,
        Kind.REJECTED,
        at=now,
        version=version,
        actor=reviewer,
        from_value=State.IN_REVIEW,
        to_value=State.REJECTED,
        detail={"reason": reason},
    )
    return version
