"""Applying a stored webhook event: every entry, change, message, status and preference.

Idempotent by construction: the conversations services ignore a wamid they already have and
never move a status backwards, and a processed event is not applied again. Each part runs in
its own savepoint so one bad part cannot hide the rest of a batch; the event then ends
`failed` (a part raised) or `flagged` (an admin must look: unknown number, unreadable part)
with the reasons, and `webhooks_reprocess` applies it again once the cause is fixed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from conversations import media
from conversations import services as conversations
from webhooks.intake import clean_text
from webhooks.models import WebhookEvent
from whatsapp import schemas

logger = logging.getLogger(__name__)

# Connection-level errors: retry the whole event later (the Celery task does) instead of
# recording a part as failed.
RETRYABLE_DB_ERRORS = (OperationalError, InterfaceError)

TEMPLATE_CHANGES = (schemas.TemplateStatusChange, schemas.TemplateQualityChange, schemas.TemplateCategoryChange)


@dataclass
class Outcome:
    flags: list[str] = field(default_factory=list)  # an admin must act (event -> flagged)
    failures: list[str] = field(default_factory=list)  # a part raised (event -> failed)
    notes: list[dict[str, Any]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    media_message_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def event_process(*, event_id: int) -> WebhookEvent | None:
    """Apply one stored event, once. Safe to call again, and concurrently (the row is locked)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.state == WebhookEvent.State.PROCESSED:
            return event
        event_apply(event)
    return event


def event_apply(
    event: WebhookEvent,
    *,
    envelope: schemas.Envelope | None = None,
    received: dict[str, Any] | None = None,
    changes: list | None = None,
) -> None:
    """Apply an event the caller holds locked inside its transaction, and record the outcome.

    The batch processor passes the envelope it parsed and the messages it already stored
    set-based (`received`: wamid -> message, None for a duplicate).
    """
    event.attempts += 1
    if envelope is None:
        try:
            envelope = schemas.parse_webhook(bytes(event.body))
        except schemas.PayloadError as exc:
            _finish(event, WebhookEvent.State.FAILED, str(exc))
            return
    if changes is None:
        changes = list(schemas.iter_changes(envelope, now=event.received_at))
    outcome = apply_envelope(envelope, received=received, changes=changes)
    event.fields = outcome.fields
    event.notes = [{"counts": outcome.counts}, *outcome.notes] if outcome.counts else outcome.notes
    if outcome.failures:
        _finish(event, WebhookEvent.State.FAILED, "; ".join(outcome.failures + outcome.flags))
    elif outcome.flags:
        _finish(event, WebhookEvent.State.FLAGGED, "; ".join(outcome.flags))
    else:
        _finish(event, WebhookEvent.State.PROCESSED, "")
    for message_id in outcome.media_message_ids:
        media.download_later(message_id)


def _finish(event: WebhookEvent, state: str, reason: str) -> None:
    event.state = state
    event.reason = clean_text(reason, 4000)
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "reason", "processed_at", "attempts", "fields", "notes"])
    if state != WebhookEvent.State.PROCESSED:
        logger.warning("webhook event %s %s: %s", event.pk, state, event.reason)


def apply_envelope(
    envelope: schemas.Envelope, *, received: dict[str, Any] | None = None, changes: list | None = None
) -> Outcome:
    outcome = Outcome()
    received = received or {}
    for change in changes if changes is not None else schemas.iter_changes(envelope):
        if change.field not in outcome.fields:
            outcome.fields.append(change.field)
        if isinstance(change, schemas.MessagesChange):
            _apply_messages_change(change, outcome, received)
        elif isinstance(change, TEMPLATE_CHANGES):
            _apply_template_change(change, outcome)
        elif isinstance(change, schemas.NumberQualityChange):
            _apply_number_quality(change, outcome)
        elif isinstance(change, schemas.InvalidChange):
            outcome.flags.append(f"unreadable {change.field} change: {change.reason}")
        else:
            outcome.notes.append({"kind": "not handled", "field": change.field})
            outcome.count("not_handled")
    return outcome


def _apply_template_change(change: Any, outcome: Outcome) -> None:
    """Meta's verdicts on templates (status, quality, category) go to the templates app, which
    applies them in any order and more than once without moving a template backwards."""
    from templates_app import services as templates

    apply = {
        schemas.TemplateStatusChange: templates.template_status_apply,
        schemas.TemplateQualityChange: templates.template_quality_apply,
        schemas.TemplateCategoryChange: templates.template_category_apply,
    }[type(change)]
    outcome.notes.append({"kind": change.field, **change.model_dump(mode="json", exclude={"raw"})})
    applied = _part(
        outcome,
        f"{change.field} {change.name} {change.language}",
        lambda: apply(change=change, now=timezone.now(), at=change.meta_time),
    )
    if applied is not _FAILED:
        outcome.count("template_updates")


def _apply_number_quality(change: schemas.NumberQualityChange, outcome: Outcome) -> None:
    """Meta changed a number's messaging limit or flagged its quality (the team page shows it)."""
    from conversations.services_numbers import number_quality_apply

    outcome.notes.append({"kind": change.field, **change.model_dump(mode="json", exclude={"raw"})})
    applied = _part(
        outcome,
        f"{change.field} {change.display_phone_number}",
        lambda: number_quality_apply(
            waba_id=change.waba_id,
            display_phone_number=change.display_phone_number,
            at=change.meta_time or timezone.now(),
            event=change.event,
            limit=change.limit,
        ),
    )
    if applied is None:
        outcome.flags.append(
            f"unknown number {change.display_phone_number} (waba {change.waba_id}) in {change.field}; "
            "add the number, then re-process"
        )
    elif applied is not _FAILED:
        outcome.count("number_updates")


def _apply_messages_change(change: schemas.MessagesChange, outcome: Outcome, received: dict[str, Any]) -> None:
    for part in change.invalid:
        outcome.flags.append(f"unreadable {part.kind}: {part.reason}")
    number = conversations.number_for_phone_number_id(change.phone_number_id)
    if number is None:
        outcome.flags.append(
            f"unknown phone_number_id {change.phone_number_id} (waba {change.waba_id}); add the number, then re-process"
        )
        return
    for error in change.errors:
        # System or account errors with no message (e.g. 130429): keep them visible.
        outcome.notes.append({"kind": "error", "code": error.code, "title": error.title, "details": error.details})
        logger.warning("Cloud API reported error %s for %s: %s", error.code, change.phone_number_id, error.title)
    for part in [*change.messages, *change.statuses, *change.user_preferences]:
        if getattr(part, "timestamp_clamped_from", None):
            # Meta's time was absurd (far future, before WhatsApp): we used a sane one, and say so.
            outcome.notes.append(
                {
                    "kind": "timestamp_clamped",
                    "id": getattr(part, "id", "") or getattr(part, "wa_id", "") or "",
                    "sent": part.timestamp_clamped_from,
                    "used": part.timestamp.isoformat(),
                }
            )
    for message in change.messages:
        if message.id in received:  # stored by the batch path already
            outcome.count("messages_new" if received[message.id] is not None else "messages_duplicate")
            continue
        profile = change.profile_for(message)
        stored = _part(
            outcome,
            f"message {message.id}",
            lambda m=message, p=profile: conversations.inbound_message_receive(number=number, message=m, profile=p),
        )
        if stored is _FAILED:
            continue
        if stored is not None:
            outcome.count("messages_new")
            if message.media is not None and stored.media_id:
                outcome.media_message_ids.append(stored.pk)
        else:
            outcome.count("messages_duplicate")
    for status in change.statuses:
        applied = _part(
            outcome,
            f"status {status.status} of {status.id}",
            lambda s=status: conversations.message_status_apply(status=s),
        )
        if applied is not _FAILED:
            outcome.count("statuses_applied" if applied is not None else "statuses_unknown_wamid")
    for preference in change.user_preferences:
        applied = _part(
            outcome,
            f"user preference {preference.value}",
            lambda p=preference: conversations.contact_preference_apply(preference=p),
        )
        if applied is not _FAILED:
            outcome.count("user_preferences")


_FAILED = object()


def _part(outcome: Outcome, label: str, apply) -> Any:
    """Run one part in a savepoint; a failure is recorded and the batch goes on."""
    try:
        with transaction.atomic():
            return apply()
    except RETRYABLE_DB_ERRORS:
        raise
    except Exception as exc:  # recorded on the event for an admin; the rest of the batch still applies
        logger.exception("webhook part failed: %s", label)
        outcome.failures.append(f"{label}: {type(exc).__name__}: {exc}")
        return _FAILED
