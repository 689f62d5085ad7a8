"""What Meta says about our templates: submission answers, webhooks, sync, send errors.

Ordering rule for the three webhook appliers (Meta delivers late, twice and out of order):
1. Same state as held: nothing changes, no history row (idempotent).
2. With Meta's event time (`at=`, the envelope entry's `time`, or a `timestamp` in the value):
   older than what we hold is ignored, newer is applied.
3. Without a usable time (or the same second), statuses move only forward in their lifecycle
   stage (`STAGES`): PENDING < APPROVED/REJECTED (the verdict) < later events (paused,
   disabled, flagged, reinstated, unpaused, archived, ...) < DELETED. So a late PENDING never
   undoes a verdict, and a late APPROVED never un-pauses a template; an unpause is an APPROVED
   that says so (other_info.title UNPAUSE), ends an appeal, or REINSTATED. Quality and category changes carry
   their previous value: one that does not follow on from what we hold and starts where an
   applied later change already went is stale.
`templates_sync` reads Meta's current state and is authoritative: it repairs whatever a missed
or ambiguous webhook left behind (beat runs it every 15 minutes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q

from templates_app.history import event_add
from templates_app.models import (
    Category,
    MetaStatus,
    ParameterFormat,
    Quality,
    Template,
    TemplateEvent,
    TemplateVersion,
)
from whatsapp.schemas import TemplateCategoryChange, TemplateQualityChange, TemplateStatusChange, normalise_language

log = logging.getLogger(__name__)
Kind = TemplateEvent.Kind

STAGES = {
    "": 0,
    MetaStatus.PENDING: 1,
    MetaStatus.APPROVED: 2,
    MetaStatus.REJECTED: 2,
    MetaStatus.DELETED: 4,
}
LATER_STAGE = 3
# Webhook events that are not statuses of their own: what the template's status becomes.
EVENT_STATUS = {"REINSTATED": MetaStatus.APPROVED, "UNARCHIVED": MetaStatus.APPROVED, "UNPAUSE": MetaStatus.APPROVED}
SEND_ERROR_STATUS = {132015: MetaStatus.PAUSED, 132016: MetaStatus.DISABLED}


def stage_of(status: str, *, after_verdict: bool = False) -> int:
    """The lifecycle stage of a status; `after_verdict` for an APPROVED that un-pauses or reinstates."""
    if after_verdict:
        return LATER_STAGE
    return STAGES.get(status, LATER_STAGE)


def _find(*, waba_id: str, template_id: str | None, name: str, language: str, lock: bool = True) -> Template | None:
    qs = Template.objects.select_for_update() if lock else Template.objects.all()
    if template_id:
        found = qs.filter(meta_template_id=str(template_id)).first()
        if found is not None:
            return found
    if name and language:
        return qs.filter(waba_id=waba_id, name=name, language=normalise_language(language)).first()
    return None


def _event_time(change, at: datetime | None) -> datetime | None:
    if at is not None:
        return at
    raw = getattr(change, "raw", None) or {}
    stamp = raw.get("timestamp") if isinstance(raw, dict) else None
    try:
        return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp not in (None, "") else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _is_older(event_time: datetime | None, held_at: datetime | None) -> bool | None:
    """True/False when the times decide; None when they cannot (missing or the same second)."""
    if event_time is None or held_at is None:
        return None
    if int(event_time.timestamp()) == int(held_at.timestamp()):
        return None
    return event_time < held_at


def _touch(template: Template, field: str, event_time: datetime | None) -> None:
    """A repeat of what we hold, known to be newer: remember its time (an older one must not win
    later), without a history row since nothing changed."""
    held = getattr(template, field)
    if event_time is not None and (held is None or event_time > held):
        Template.objects.filter(pk=template.pk).update(**{field: event_time})
        setattr(template, field, event_time)


def _sending_candidate(template: Template) -> TemplateVersion | None:
    """What Meta's APPROVED is about: the newest version Meta has (and did not reject), when a second
    admin approved it. None while that version awaits internal review (imported, or edited at Meta)."""
    newest = template.versions.filter(meta_submitted_at__isnull=False, meta_error="").order_by("-number").first()
    return newest if newest is not None and newest.state == TemplateVersion.State.APPROVED else None


def _latest_submitted(template: Template) -> TemplateVersion | None:
    return template.versions.filter(meta_submitted_at__isnull=False).order_by("-number").first()


def _set_status(template: Template, status: str, *, stage: int, at: datetime) -> list[str]:
    template.meta_status = status
    template.meta_status_stage = stage
    template.meta_status_at = at
    template.meta_status_seq += 1
    fields = ["meta_status", "meta_status_stage", "meta_status_at", "meta_status_seq"]
    if status != MetaStatus.PENDING and template.sending_while_pending:
        template.sending_while_pending = False
        fields.append("sending_while_pending")
    if status == MetaStatus.APPROVED:
        candidate = _sending_candidate(template)
        if candidate is not None and template.sending_version_id != candidate.pk:
            template.sending_version = candidate
            fields.append("sending_version")
    return fields


# --- submission -------------------------------------------------------------------------------


@transaction.atomic
def template_meta_submitted(
    *, version_id: int, answer: dict, now: datetime, seen_seq: int | None = None
) -> Template | None:
    """Record Meta's answer to the create (or edit) call: its id, status and category.

    `seen_seq` is the template's `meta_status_seq` read before the call: when a webhook changed
    the status meanwhile, Meta's verdict on this submission beat its own answer, and is kept.
    """
    version = TemplateVersion.objects.filter(pk=version_id).first()
    if version is None:
        return None
    template = Template.objects.select_for_update().get(pk=version.template_id)
    version = TemplateVersion.objects.select_for_update().get(pk=version_id)
    if version.meta_submitted_at is not None:
        return template
    version.meta_submitted_at = now
    version.meta_error = ""
    version.save(update_fields=["meta_submitted_at", "meta_error"])
    status = str(answer.get("status") or MetaStatus.PENDING).upper()
    status = status if status in MetaStatus.values else MetaStatus.PENDING
    was = template.meta_status
    if answer.get("id"):
        template.meta_template_id = str(answer["id"])
    category = str(answer.get("category") or "").upper()
    if category in Category.values and category != template.category:
        event_add(template, Kind.CATEGORY, at=now, version=version, from_value=template.category, to_value=category)
        template.category = category
    verdict_came_first = (
        seen_seq is not None
        and template.meta_status_seq != seen_seq
        and template.meta_status not in ("", MetaStatus.PENDING)
    )
    if verdict_came_first:
        # Meta's webhook about this submission beat its own answer here: keep the verdict.
        if template.meta_status == MetaStatus.APPROVED:
            _set_status(template, MetaStatus.APPROVED, stage=template.meta_status_stage, at=template.meta_status_at)
        elif template.meta_status == MetaStatus.REJECTED:
            version.meta_error = template.meta_reason_detail or template.meta_reason or MetaStatus.REJECTED
            version.save(update_fields=["meta_error"])
        status = template.meta_status
    else:
        template.meta_reason = template.meta_reason_detail = template.meta_recommendation = ""
        # An edit of an approved template: the approved version keeps sending while Meta reviews it.
        editing_approved = bool(template.sending_version_id) and was == MetaStatus.APPROVED
        # Our own submission starts a new lifecycle: the stage goes back to PENDING on purpose.
        _set_status(template, status, stage=stage_of(status), at=now)
        template.sending_while_pending = editing_approved and status == MetaStatus.PENDING
    template.save()
    event_add(
        template,
        Kind.META_SUBMITTED,
        at=now,
        version=version,
        from_value=was,
        to_value=status,
        detail={"meta_template_id": template.meta_template_id},
    )
    return template


@transaction.atomic
def template_meta_refused(*, version_id: int, message: str, code: int | None, now: datetime) -> Template | None:
    """Meta refused the submission outright: visible on the template with Meta's words."""
    version = TemplateVersion.objects.filter(pk=version_id).first()
    if version is None:
        return None
    template = Template.objects.select_for_update().get(pk=version.template_id)
    TemplateVersion.objects.filter(pk=version_id).update(meta_error=message[:2000])
    event_add(template, Kind.META_REFUSED, at=now, version=version, detail={"message": message, "code": code})
    return template


# --- webhooks -------------------------------------------------------------------------------


@transaction.atomic
def template_status_apply(
    *, change: TemplateStatusChange, now: datetime, at: datetime | None = None
) -> Template | None:
    """Apply `message_template_status_update`; None for a template we do not know (sync imports it).

    `at` is Meta's event time when the caller has it (the envelope entry's `time`).
    """
    template = _find(waba_id=change.waba_id, template_id=change.template_id, name=change.name, language=change.language)
    if template is None:
        return None
    event = (change.event or "").upper()
    other_title = str((change.other_info or {}).get("title") or "").upper()
    # An APPROVED that un-pauses, or ends an appeal, comes after the verdict (stage 3): a late
    # duplicate of the first approval cannot be told from it without Meta's time; sync repairs that.
    after_verdict = event in EVENT_STATUS or (
        event == "APPROVED" and (other_title == "UNPAUSE" or template.meta_status == MetaStatus.IN_APPEAL)
    )
    status = EVENT_STATUS.get(event, event)
    if status not in MetaStatus.values or not status:
        log.info("template %s: unknown status event %r kept only in the raw webhook", template.pk, event)
        return template
    stage = stage_of(status, after_verdict=after_verdict)
    rejection = change.rejection_info or {}
    reason = change.reason if change.reason not in (None, "NONE") else ""
    detail_text = str(rejection.get("reason") or (change.other_info or {}).get("description") or "")
    recommendation = str(rejection.get("recommendation") or "")
    # What the template page shows as Meta's reason: none once it is approved (again); the
    # history keeps every webhook's words.
    shown = ("", "", "") if status == MetaStatus.APPROVED else (reason or "", detail_text, recommendation)
    event_time = _event_time(change, at)
    same = template.meta_status == status and (template.meta_reason, template.meta_reason_detail) == shown[:2]
    if same:
        _touch(template, "meta_status_at", event_time)
        return template
    older = _is_older(event_time, template.meta_status_at)
    if older is True or (older is None and stage < template.meta_status_stage):
        log.info("template %s: ignored a late %s (holding %s)", template.pk, status, template.meta_status)
        return template
    if change.template_id and not template.meta_template_id:
        template.meta_template_id = str(change.template_id)
    was = template.meta_status
    reviewed = _latest_submitted(template)
    if reviewed is not None and status == MetaStatus.REJECTED and reviewed.pk != template.sending_version_id:
        # Meta's verdict is on the version it reviewed last: never a sending candidate again.
        TemplateVersion.objects.filter(pk=reviewed.pk).update(meta_error=detail_text or reason or status)
    if reviewed is not None and status == MetaStatus.APPROVED and was == MetaStatus.IN_APPEAL:
        # An appeal won: the version Meta had rejected is approved after all.
        TemplateVersion.objects.filter(pk=reviewed.pk).update(meta_error="")
    _set_status(template, status, stage=stage, at=event_time or now)
    template.meta_reason, template.meta_reason_detail, template.meta_recommendation = shown
    category = (change.category or "").upper()
    if category in Category.values and category != template.category:
        event_add(
            template, Kind.CATEGORY, at=now, from_value=template.category, to_value=category, detail={"via": event}
        )
        template.category = category
    template.save()
    event_add(
        template,
        Kind.META_STATUS,
        at=now,
        version=template.sending_version if status == MetaStatus.APPROVED else None,
        from_value=was,
        to_value=status,
        detail={
            "event": event,
            "reason": reason or "",
            "detail": detail_text,
            "recommendation": recommendation,
            "other_info": change.other_info or {},
            "disable_info": change.disable_info or {},
            "meta_time": event_time.isoformat() if event_time else None,
        },
    )
    return template


def _stale_chain(template: Template, kind: str, *, previous: str, new: str) -> bool:
    """A change whose target is where an applied change already started from is older than it."""
    return template.events.filter(kind=kind, detail__previous=new).exclude(detail__previous=previous).exists()


@transaction.atomic
def template_quality_apply(
    *, change: TemplateQualityChange, now: datetime, at: datetime | None = None
) -> Template | None:
    template = _find(waba_id=change.waba_id, template_id=change.template_id, name=change.name, language=change.language)
    new = (change.new_quality or "").upper()
    if template is None or new not in Quality.values:
        return template
    if template.quality == new:
        _touch(template, "quality_at", _event_time(change, at))
        return template
    previous = (change.previous_quality or "").upper()
    event_time = _event_time(change, at)
    older = _is_older(event_time, template.quality_at)
    if older is True:
        return template
    chained = previous in ("", template.quality) or template.quality == Quality.UNKNOWN
    if older is None and not chained and _stale_chain(template, Kind.QUALITY, previous=previous, new=new):
        return template
    was = template.quality
    template.quality = new
    template.quality_at = event_time or now
    template.save(update_fields=["quality", "quality_at", "updated_at"])
    event_add(template, Kind.QUALITY, at=now, from_value=was, to_value=new, detail={"previous": previous})
    return template


@transaction.atomic
def template_category_apply(
    *, change: TemplateCategoryChange, now: datetime, at: datetime | None = None
) -> Template | None:
    """Advance notice (`correct_category` + when) or the completed change (`previous_category`)."""
    template = _find(waba_id=change.waba_id, template_id=change.template_id, name=change.name, language=change.language)
    if template is None:
        return None
    new = (change.new_category or "").upper()
    correct = (change.correct_category or "").upper()
    if correct:
        if correct not in Category.values or correct == template.category:
            return template  # late notice of a change already made
        when = change.category_update_timestamp
        if template.correct_category == correct and template.category_change_at == when:
            return template
        template.correct_category = correct
        template.category_change_at = when
        template.save(update_fields=["correct_category", "category_change_at", "updated_at"])
        event_add(
            template,
            Kind.CATEGORY_NOTICE,
            at=now,
            from_value=template.category,
            to_value=correct,
            detail={"effective_at": when.isoformat() if when else None},
        )
        return template
    if new not in Category.values or new == template.category:
        if template.correct_category and template.correct_category == template.category:
            template.correct_category, template.category_change_at = "", None
            template.save(update_fields=["correct_category", "category_change_at", "updated_at"])
        if new == template.category:
            _touch(template, "category_at", _event_time(change, at))
        return template
    previous = (change.previous_category or "").upper()
    event_time = _event_time(change, at)
    older = _is_older(event_time, template.category_at)
    if older is True:
        return template
    chained = previous in ("", template.category)
    if older is None and not chained and _stale_chain(template, Kind.CATEGORY, previous=previous, new=new):
        return template
    was = template.category
    template.category = new
    template.category_at = event_time or now
    if template.correct_category == new:
        template.correct_category, template.category_change_at = "", None
    template.save()
    event_add(template, Kind.CATEGORY, at=now, from_value=was, to_value=new, detail={"previous": previous})
    return template


# --- sending -------------------------------------------------------------------------------


@transaction.atomic
def template_send_error_apply(*, waba_id: str, name: str, language: str, code: int, now: datetime) -> Template | None:
    """Meta refused a send because the template is paused (132015) or disabled (132016)."""
    status = SEND_ERROR_STATUS.get(int(code))
    template = _find(waba_id=waba_id, template_id=None, name=name, language=language)
    if template is None or status is None or template.meta_status == status:
        return template
    was = template.meta_status
    _set_status(template, status, stage=LATER_STAGE, at=now)
    template.save()
    event_add(template, Kind.SEND_ERROR, at=now, from_value=was, to_value=status, detail={"code": int(code)})
    return template


# --- sync ----------------------------------------------------------------------------------


@dataclass
class SyncResult:
    imported: int = 0
    updated: int = 0
    seen: int = 0


def templates_sync(*, waba_id: str, now: datetime, client=None) -> SyncResult:
    """Import Meta's templates we do not have, reconcile the ones we do (Meta's word wins)."""
    if client is None:
        from whatsapp.client import get_client

        client = get_client()
    remote = client.template_list(waba_id=waba_id)  # network call: outside any transaction
    result = SyncResult(seen=len(remote))
    seen_ids = set()
    for item in remote:
        if not item.get("name") or not item.get("language"):
            continue
        seen_ids.add(str(item.get("id") or ""))
        outcome = _sync_one(waba_id=waba_id, item=item, now=now)
        if outcome == "imported":
            result.imported += 1
        elif outcome == "updated":
            result.updated += 1
    result.updated += _sync_gone(waba_id=waba_id, seen_ids=seen_ids, now=now)
    return result


def _quality_of(item: dict) -> str:
    score = item.get("quality_score")
    score = score.get("score") if isinstance(score, dict) else score
    score = str(score or "UNKNOWN").upper()
    return score if score in Quality.values else Quality.UNKNOWN


@transaction.atomic
def _sync_one(*, waba_id: str, item: dict, now: datetime) -> str:
    language = normalise_language(str(item["language"]))
    status = str(item.get("status") or "").upper()
    status = status if status in MetaStatus.values else ""
    category = str(item.get("category") or "").upper()
    quality = _quality_of(item)
    template = _find(waba_id=waba_id, template_id=str(item.get("id") or ""), name=item["name"], language=language)
    if template is None:
        parameter_format = str(item.get("parameter_format") or "positional").lower()
        template = Template.objects.create(
            waba_id=waba_id,
            name=item["name"],
            language=language,
            category=category if category in Category.values else Category.UTILITY,
            parameter_format=parameter_format if parameter_format in ParameterFormat.values else "positional",
            meta_template_id=str(item.get("id") or ""),
            meta_status=status,
            meta_status_stage=stage_of(status),
            meta_status_at=now,
            quality=quality,
            imported=True,
        )
        version = TemplateVersion.objects.create(
            template=template,
            number=1,
            category=template.category,
            components=item.get("components") or [],
            state=TemplateVersion.State.IN_REVIEW,
            submitted_at=now,
            meta_submitted_at=now,
        )
        template.current_version = version
        template.save(update_fields=["current_version"])
        event_add(
            template,
            Kind.IMPORTED,
            at=now,
            version=version,
            to_value=status,
            detail={"meta_template_id": template.meta_template_id},
        )
        return "imported"
    changes = {}
    if item.get("id") and template.meta_template_id != str(item["id"]):
        template.meta_template_id = str(item["id"])
    edited_at_meta = _edited_at_meta(template, item.get("components"), now=now)
    if edited_at_meta is not None:
        changes["content"] = ["", f"v{edited_at_meta.number}"]
    if status and template.meta_status != status:
        changes["status"] = [template.meta_status, status]
        _set_status(template, status, stage=stage_of(status), at=now)
    elif status == MetaStatus.APPROVED and template.sending_version_id is None and _sending_candidate(template):
        _set_status(template, status, stage=template.meta_status_stage, at=template.meta_status_at or now)
        changes["sending_version"] = ["", str(template.sending_version_id)]
    if quality != template.quality and quality != Quality.UNKNOWN:
        changes["quality"] = [template.quality, quality]
        template.quality, template.quality_at = quality, now
    if category in Category.values and category != template.category:
        changes["category"] = [template.category, category]
        template.category, template.category_at = category, now
    correct = str(item.get("correct_category") or "").upper()
    if correct in Category.values and correct != template.category and correct != template.correct_category:
        changes["correct_category"] = [template.correct_category, correct]
        template.correct_category = correct
    template.save()
    if not changes:
        return "unchanged"
    event_add(
        template,
        Kind.SYNCED,
        at=now,
        from_value=changes.get("status", [""])[0],
        to_value=changes.get("status", ["", ""])[1],
        detail={key: {"from": old, "to": new} for key, (old, new) in changes.items()},
    )
    return "updated"


def content_of(components: list | None) -> list[tuple]:
    """What a customer sees of a component list (examples and key order aside), to compare."""
    out = []
    for part in components or []:
        if not isinstance(part, dict):
            continue
        kind = str(part.get("type") or "").upper()
        if kind == "BUTTONS":
            for button in part.get("buttons") or []:
                if isinstance(button, dict):
                    out.append(
                        (
                            "BUTTON",
                            str(button.get("type") or "").upper(),
                            str(button.get("text") or "").strip(),
                            str(button.get("url") or button.get("phone_number") or "").strip(),
                        )
                    )
            continue
        fmt = str(part.get("format") or ("TEXT" if kind == "HEADER" else "")).upper()
        out.append((kind, fmt, str(part.get("text") or "").strip()))
    return out


def _edited_at_meta(template: Template, components: list | None, *, now: datetime) -> TemplateVersion | None:
    """Content Meta has that none of our submitted versions has: edited in Meta's manager. It becomes
    a new version awaiting internal review, and nothing sends until a second admin approves it."""
    submitted = list(template.versions.filter(meta_submitted_at__isnull=False))
    remote = content_of(components)
    if not remote or not submitted or any(content_of(v.components) == remote for v in submitted):
        return None
    number = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = TemplateVersion.objects.create(
        template=template,
        number=number + 1,
        category=template.category,
        components=components,
        state=TemplateVersion.State.IN_REVIEW,
        submitted_at=now,
        meta_submitted_at=now,
    )
    template.current_version = version
    template.sending_version = None
    template.sending_while_pending = False
    return version


@transaction.atomic
def _sync_gone(*, waba_id: str, seen_ids: set[str], now: datetime) -> int:
    """Templates Meta no longer lists were deleted there."""
    gone = (
        Template.objects.select_for_update()
        .filter(waba_id=waba_id)
        .exclude(meta_template_id="")
        .exclude(meta_template_id__in=seen_ids)
        .exclude(Q(meta_status=MetaStatus.DELETED))
    )
    count = 0
    for template in gone:
        was = template.meta_status
        _set_status(template, MetaStatus.DELETED, stage=STAGES[MetaStatus.DELETED], at=now)
        template.save()
        event_add(
            template, Kind.SYNCED, at=now, from_value=was, to_value=MetaStatus.DELETED, detail={"gone_at_meta": True}
        )
        count += 1
    return count
