"""Demo campaigns for `seed_demo`: one finished with mixed results, one ready to start.

The finished one goes through the real sending path (messages and billing records), and its
messages are given their outcomes in the same transaction, so nothing is handed to a Cloud API
when the demo is seeded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from campaigns import services
from campaigns.models import Campaign, Recipient
from conversations.models import BusinessNumber, Message

NUMBER_ID = "100000000000001"
TEMPLATE, LANGUAGE = "order_update", "de"
FINISHED, READY = "Paketstatus November", "Paketstatus Dezember"
# (phone, name, what happened)
FINISHED_ROWS = [
    ("+4915110000001", "Anna Becker", "read"),
    ("+4915110000002", "Jonas Weber", "read"),
    ("+4915110000003", "Lea Hoffmann", "delivered"),
    ("+4915110000004", "Paul Wagner", "delivered"),
    ("+4915110000005", "Mia Schulz", "delivered"),
    ("+4915110000006", "Ben Koch", "sent"),
    ("+4915110000007", "Emma Richter", "failed"),
    ("+4367612345678", "Lukas Gruber", "read"),
    ("+41791234567", "Sofia Meier", "failed"),
    ("+4915110000001", "Anna Becker (again)", "duplicate"),
    ("0151 not a number", "Max ?", "invalid"),
]
READY_ROWS = [
    ("+4915120000001", "Clara Neumann"),
    ("+4915120000002", "Felix Schwarz"),
    ("+4915120000003", "Hannah Zimmermann"),
    ("+4915120000004", "Elias Braun"),
    ("+447700900456", "Oliver Smith"),
    ("+33612345699", "Chloé Martin"),
]
FAILURE = (131026, "Message undeliverable", "The customer's phone number is not on WhatsApp.")


def _defaults(number) -> dict:
    from inbox.template_form import parameter_slots
    from templates_app.models import Template

    template = Template.objects.filter(waba_id=number.waba_id, name=TEMPLATE, language=LANGUAGE).first()
    version = template.sending_version if template else None
    if version is None:
        return {}
    slots = parameter_slots(components=version.components, parameter_format=template.parameter_format)
    return {slot.field: slot.example for slot in slots}


def _rows(rows) -> list[services.Row]:
    return [
        services.Row(phone=phone, name=name, values={"first_name": name.split()[0]}, line=index)
        for index, (phone, name, *_rest) in enumerate(rows, start=2)
    ]


def _outcome(message: Message, outcome: str, at: datetime) -> None:
    from billing import services as billing

    message.wamid = f"wamid.DEMO-CAMPAIGN-{message.pk}"
    message.sent_at = at + timedelta(seconds=2)
    message.status = outcome
    if outcome in ("delivered", "read"):
        message.delivered_at = at + timedelta(seconds=5)
    if outcome == "read":
        message.read_at = at + timedelta(minutes=12)
    if outcome == "failed":
        message.sent_at = None
        message.failed_at = at + timedelta(seconds=3)
        message.error_code, message.error_title, message.error_details = FAILURE
    message.save()
    if outcome == "failed":
        billing.billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=message.failed_at)


def seed_campaigns(*, stdout, now: datetime) -> list[Campaign]:
    """Idempotent: campaigns already there (by name) are left alone."""
    number = BusinessNumber.objects.filter(phone_number_id=NUMBER_ID).first()
    admin = get_user_model().objects.filter(username="admin").first()
    if number is None or admin is None:
        stdout.write("Campaigns: skipped (run the numbers and users part of seed_demo first).")
        return []
    made = []
    try:
        with transaction.atomic():
            if not Campaign.objects.filter(name=FINISHED).exists():
                made.append(_finished(number, admin, now=now))
            if not Campaign.objects.filter(name=READY).exists():
                campaign = _create(READY, number, admin, READY_ROWS)
                made.append(services.campaign_transition(campaign=campaign, action="ready", now=now))
    except services.CampaignError as exc:
        stdout.write(f"Campaigns: skipped ({exc}).")
        return []
    stdout.write(f"Campaigns: {len(made)} added.")
    return made


def _create(name, number, admin, rows) -> Campaign:
    return services.campaign_create(
        name=name,
        number=number,
        template=TEMPLATE,
        language=LANGUAGE,
        created_by=admin,
        rows=_rows(rows),
        defaults=_defaults(number),
    )


def _finished(number, admin, *, now: datetime) -> Campaign:
    campaign = _create(FINISHED, number, admin, FINISHED_ROWS)
    started = now - timedelta(days=3)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.RUNNING, started_at=started)
    outcomes: dict[str, str] = {}
    for phone, _name, outcome in FINISHED_ROWS:
        outcomes.setdefault(services._wa_id(phone) or "", outcome)
    while services.campaign_send_batch(campaign_id=campaign.pk, now=started):
        pass
    for recipient in Recipient.objects.filter(campaign=campaign).select_related("message"):
        if recipient.message is not None:
            _outcome(recipient.message, outcomes.get(recipient.wa_id, "sent"), started)
    Campaign.objects.filter(pk=campaign.pk).update(
        state=Campaign.State.DONE, finished_at=started + timedelta(minutes=1)
    )
    services.recipients_sync(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign
