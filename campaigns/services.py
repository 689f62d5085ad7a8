"""Campaign writes: building the recipient list, the state machine, and the sender's batches.

The sender claims pending recipients with `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of
workers share one campaign without meeting. Each recipient is sent in its own savepoint through
`message_send_template` (the same path as the inbox and the API: approval, parameters, opt-out,
budget, and the billing record with the message), and its state moves in the same transaction
as the message insert. A batch commits as a whole: a worker killed mid-batch rolls the whole
batch back (nothing was handed to Meta yet: delivery is published on commit), its row locks
die with its connection, and another worker claims the same recipients again. So nobody is
lost and nobody is sent twice.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import rules
from campaigns import live
from campaigns.models import Campaign, Recipient
from conversations import events
from conversations import services as conversations
from conversations.exceptions import BudgetExceeded, ConversationError
from conversations.models import Conversation, Message

log = logging.getLogger(__name__)

BATCH_SIZE = 25
MAX_ROWS = 100_000


class CampaignError(Exception):
    """A refusal a person can read (shown next to the form or the button)."""


# --- building the list --------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the upload: the phone as written, a name, and template values by column."""

    phone: str
    name: str = ""
    values: dict[str, str] = field(default_factory=dict)
    line: int = 0


def rows_from_csv(content: bytes | str) -> list[Row]:
    """Rows of a CSV with a `phone` column, optionally `name`, and one column per template value.

    Value columns are named after the template's variables: `first_name` for a named variable,
    `body_1` / `header_1` for positional ones, `button_0` for a link ending.
    """
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = {(name or "").strip().lower(): name for name in (reader.fieldnames or [])}
    phone_column = next((columns[c] for c in ("phone", "telefon", "number", "wa_id") if c in columns), None)
    if phone_column is None:
        raise CampaignError(_("The file needs a column named “phone”."))
    name_column = columns.get("name")
    rows = []
    for line, record in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise CampaignError(_("At most %(count)d recipients per campaign.") % {"count": MAX_ROWS})
        values = {
            (key or "").strip().lower(): (value or "").strip()
            for key, value in record.items()
            if key not in (phone_column, name_column) and key
        }
        rows.append(
            Row(
                phone=(record.get(phone_column) or "").strip(),
                name=(record.get(name_column) or "").strip() if name_column else "",
                values=values,
                line=line,
            )
        )
    return rows


def _wa_id(phone: str) -> str | None:
    from notifications.services import NotificationError, wa_id_for

    try:
        return wa_id_for(phone)
    except NotificationError:
        return None


def _slot_column(slot) -> tuple[str, ...]:
    """The CSV column names that fill a template slot."""
    if slot.section == "button":
        return (f"button_{slot.key}", slot.field)
    return (slot.key.lower(), f"{slot.section}_{slot.key}".lower(), slot.field)


def _template(number, name: str, language: str):
    from templates_app.selectors import templates_usable

    for template in templates_usable(waba_id=number.waba_id):
        if template.name == name and template.language == language:
            return template
    raise CampaignError(
        _("The template %(name)s (%(language)s) is not approved for sending.") % {"name": name, "language": language}
    )


def parameters_for(template, *, row_values: dict[str, str], defaults: dict[str, str]) -> dict:
    """The sending service's `parameters` for one recipient: its CSV values over the campaign's."""
    from inbox.template_form import parameter_slots, parameters_from

    version = template.sending_version
    slots = parameter_slots(
        components=version.components if version else [], parameter_format=template.parameter_format
    )
    data = {}
    for slot in slots:
        value = next((row_values[c] for c in _slot_column(slot) if row_values.get(c)), "")
        data[slot.field] = value or defaults.get(slot.field, "")
    return parameters_from(slots, data, parameter_format=template.parameter_format)


@transaction.atomic
def campaign_create(
    *, name: str, number, template: str, language: str, created_by, rows: list[Row], defaults: dict | None = None
) -> Campaign:
    """A draft campaign with one recipient per valid, distinct phone number.

    Invalid numbers and repeated ones are not recipients; the import report keeps them (line,
    what was written, why) for the dry run.
    """
    chosen = _template(number, template, language)
    defaults = {k: str(v) for k, v in (defaults or {}).items()}
    campaign = Campaign.objects.create(
        name=(name or "").strip()[:200] or chosen.name,
        number=number,
        template=chosen.name,
        language=chosen.language,
        parameters=defaults,
        created_by=created_by,
    )
    invalid, duplicates, seen = [], [], set()
    recipients = []
    for row in rows:
        wa_id = _wa_id(row.phone)
        if wa_id is None:
            invalid.append({"line": row.line, "phone": row.phone[:40], "name": row.name[:80]})
            continue
        if wa_id in seen:
            duplicates.append({"line": row.line, "phone": row.phone[:40], "name": row.name[:80]})
            continue
        seen.add(wa_id)
        contact = conversations.contact_for_identity(wa_id=wa_id, user_id=None)
        if row.name and not contact.profile_name:
            contact.profile_name = row.name[:255]
            contact.save(update_fields=["profile_name", "updated_at"])
        recipients.append(
            Recipient(
                campaign=campaign,
                contact=contact,
                wa_id=wa_id,
                name=row.name[:255],
                parameters=parameters_for(chosen, row_values=row.values, defaults=defaults),
            )
        )
    # Two spellings of one person's number (a wa_id change) may still meet one contact.
    Recipient.objects.bulk_create(recipients, batch_size=1000, ignore_conflicts=True)
    campaign.import_report = {"invalid": invalid[:1000], "duplicates": duplicates[:1000]}
    campaign.import_report["invalid_count"] = len(invalid)
    campaign.import_report["duplicate_count"] = len(duplicates)
    campaign.save(update_fields=["import_report"])
    return campaign


def rows_for_label(*, number, label: str) -> list[Row]:
    """Rows for the contacts whose threads with `number` carry the label."""
    contacts = (
        Conversation.objects.filter(number=number, labels__name=label)
        .select_related("contact")
        .order_by("contact_id")
        .distinct()
    )
    return [
        # The name agents see (the one an agent set, else the WhatsApp profile name).
        Row(phone=f"+{thread.contact.wa_id}", name=thread.contact.name or thread.contact.profile_name, line=index)
        for index, thread in enumerate(contacts, start=1)
        if thread.contact.wa_id
    ]


# --- the state machine --------------------------------------------------------------------------

TRANSITIONS = {
    "ready": ({Campaign.State.DRAFT}, Campaign.State.READY),
    "start": ({Campaign.State.READY, Campaign.State.DRAFT}, Campaign.State.RUNNING),
    "pause": ({Campaign.State.RUNNING}, Campaign.State.PAUSED),
    "resume": ({Campaign.State.PAUSED}, Campaign.State.RUNNING),
    "cancel": (
        {Campaign.State.DRAFT, Campaign.State.READY, Campaign.State.RUNNING, Campaign.State.PAUSED},
        Campaign.State.CANCELLED,
    ),
}


@transaction.atomic
def campaign_transition(*, campaign: Campaign, action: str, by=None, now: datetime | None = None) -> Campaign:
    """ready, start, pause, resume or cancel; a running campaign wakes its sender after commit."""
    now = now or timezone.now()
    if action not in TRANSITIONS:
        raise CampaignError(_("Unknown action."))
    allowed, target = TRANSITIONS[action]
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.state not in allowed:
        raise CampaignError(
            _("A %(state)s campaign cannot be %(action)s.") % {"state": locked.get_state_display(), "action": action}
        )
    locked.state = target
    fields = ["state"]
    if action == "resume" and "paused_because" in locked.import_report:
        locked.import_report = {k: v for k, v in locked.import_report.items() if k != "paused_because"}
        fields.append("import_report")
    if action == "start":
        locked.started_at = now
        fields.append("started_at")
    if action == "cancel":
        locked.finished_at = now
        fields.append("finished_at")
        locked.recipients.filter(state=Recipient.State.PENDING).update(
            state=Recipient.State.SKIPPED, reason=_("Campaign cancelled before this recipient was sent.")
        )
    locked.save(update_fields=fields)
    if target == Campaign.State.RUNNING:
        transaction.on_commit(lambda: _wake_sender(locked.pk), robust=True)
    return locked


def _wake_sender(campaign_id: int) -> None:
    from campaigns import tasks

    tasks.campaign_send.delay(campaign_id)


# --- the sender ---------------------------------------------------------------------------------


def _claim(campaign_id: int, size: int) -> list[Recipient]:
    return list(
        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("contact")
        .filter(campaign_id=campaign_id, state=Recipient.State.PENDING)
        .order_by("id")[:size]
    )


def _send_one(campaign: Campaign, recipient: Recipient, *, now: datetime) -> bool:
    """Send to one recipient in its own savepoint; False when the budget is spent (stop the batch).

    The recipient's new state is set here and written with the batch's others in one UPDATE, in
    the same transaction as its message.
    """
    try:
        with transaction.atomic():
            thread = conversations.conversation_get_or_create(number=campaign.number, contact=recipient.contact)
            # Locked for this transaction, with the number and the contact read in it (the
            # contact with the batch's claim): the sending path need not read all three again.
            thread.number, thread.contact = campaign.number, recipient.contact
            message = conversations.message_send_template(
                conversation=thread,
                sender=campaign.created_by,
                template=campaign.template,
                language=campaign.language,
                parameters=recipient.parameters or None,
                now=now,
                conversation_locked=True,
            )
    except BudgetExceeded as exc:
        # Everyone after this one would be refused too: the campaign pauses, this one stays pending.
        report = {**campaign.import_report, "paused_because": str(exc)[:500]}
        Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.PAUSED, import_report=report)
        return False
    except ConversationError as exc:
        # Opted out, budget reached, template paused since: this recipient is skipped, with why.
        recipient.state, recipient.reason = Recipient.State.SKIPPED, str(exc)[:1000]
    else:
        recipient.state, recipient.message, recipient.reason = Recipient.State.QUEUED, message, ""
    recipient.updated_at = now
    return True


def campaign_send_batch(*, campaign_id: int, size: int = BATCH_SIZE, now: datetime | None = None) -> int:
    """Send the next batch of a running campaign; how many recipients were handled (0: none left
    for this worker, or the campaign is not running).

    The batch's messages are handed to delivery as one task after the commit, and their
    realtime events (the inbox's threads, the campaign's progress) go out once for the batch.
    """
    from conversations import tasks as delivery

    with events.batched(), delivery.deliveries_collected() as queued:
        handled, stopped = _send_batch(campaign_id=campaign_id, size=size, now=now)
    if queued:
        _publish_delivery(campaign_id, queued)
    if handled or stopped:
        live.progress_changed(campaign_id)
    if stopped:
        return 0
    if not handled:
        campaign_finish_if_sent(campaign_id=campaign_id)
    return handled


def _publish_delivery(campaign_id: int, message_ids: list[int]) -> None:
    from campaigns import tasks

    try:
        tasks.campaign_deliver.delay(campaign_id, message_ids)
    except Exception as exc:  # the broker is down: the messages wait in the table for the sweep
        log.warning("campaign %s: %d messages queued, delivery not published (%s)", campaign_id, len(message_ids), exc)


@transaction.atomic
def _send_batch(*, campaign_id: int, size: int, now: datetime | None) -> tuple[int, bool]:
    """(recipients handled, whether the campaign stopped: paused by the budget or not running)."""
    campaign = Campaign.objects.select_related("number", "created_by").filter(pk=campaign_id).first()
    if campaign is None or campaign.state != Campaign.State.RUNNING:
        return 0, True
    batch = _claim(campaign_id, size)
    handled = []
    stopped = False
    # Every recipient's price is looked up in the same rule, card and budget: read them once.
    with rules.lookups_shared():
        for recipient in batch:
            if not _send_one(campaign, recipient, now=now or timezone.now()):
                stopped = True
                break
            handled.append(recipient)
    if handled:
        Recipient.objects.bulk_update(handled, ["state", "message", "reason", "updated_at"])
    return len(handled), stopped


@transaction.atomic
def campaign_finish_if_sent(*, campaign_id: int, now: datetime | None = None) -> bool:
    """A running campaign with no pending recipient left is done (its messages may still be on
    their way: statuses keep arriving and the progress follows them)."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id, state=Campaign.State.RUNNING).first()
    if campaign is None or campaign.recipients.filter(state=Recipient.State.PENDING).exists():
        return False
    campaign.state, campaign.finished_at = Campaign.State.DONE, now or timezone.now()
    campaign.save(update_fields=["state", "finished_at"])
    return True


# Message status -> recipient state (queued/sending stay "queued").
FROM_MESSAGE = {
    Message.Status.SENT: Recipient.State.SENT,
    Message.Status.DELIVERED: Recipient.State.DELIVERED,
    Message.Status.READ: Recipient.State.READ,
    Message.Status.PLAYED: Recipient.State.READ,
    Message.Status.FAILED: Recipient.State.FAILED,
}


def recipients_sync(*, campaign_id: int) -> int:
    """Copy each sent recipient's message status onto it (and Meta's reason for a failure)."""
    changed = 0
    for status, state in FROM_MESSAGE.items():
        qs = Recipient.objects.filter(campaign_id=campaign_id, message__status=status).exclude(state=state)
        if state == Recipient.State.FAILED:
            for recipient in qs.select_related("message"):
                from whatsapp.errors import reason_for

                message = recipient.message
                reason = str(reason_for(message.error_code)) if message.error_code else ""
                recipient.state = state
                recipient.reason = (reason or message.error_details or message.error_title)[:1000]
                recipient.save(update_fields=["state", "reason", "updated_at"])
                changed += 1
        else:
            changed += qs.update(state=state, updated_at=timezone.now())
    return changed


def campaigns_sync_recent(*, now: datetime) -> int:
    """Beat: campaigns running, or finished in the last two days, follow their messages' statuses."""
    from datetime import timedelta

    ids = Campaign.objects.filter(
        state__in=[Campaign.State.RUNNING, Campaign.State.PAUSED, Campaign.State.DONE, Campaign.State.CANCELLED]
    ).exclude(finished_at__lt=now - timedelta(days=2))
    return sum(recipients_sync(campaign_id=pk) for pk in ids.values_list("pk", flat=True))


def campaigns_with_pending() -> list[int]:
    return list(
        Campaign.objects.filter(state=Campaign.State.RUNNING, recipients__state=Recipient.State.PENDING)
        .distinct()
        .values_list("pk", flat=True)
    )
