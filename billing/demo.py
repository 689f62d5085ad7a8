"""Demo costs for seed_demo: four months of template notifications across markets and
categories, priced through the real services, confirmed by Meta-like status pricing; a
rate-card change in the middle, one reconciliation flag and a budget near its warning.

Idempotent: the demo messages have fixed wamids (`wamid.DEMO-BILL-…`); a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from billing import rules
from billing.models import BillingRecord, Budget, Rate, RateCard
from billing.services import billing_record_for_message, billing_status_apply
from conversations.models import BusinessNumber, Contact, Conversation, Message

NUMBERS = ("100000000000001", "100000000000002")
WAMID = "wamid.DEMO-BILL-{}"
# wa_id, ISO market, name
RECIPIENTS = [
    ("4915901234567", "DE", "Lena Vogel"),
    ("4917098765432", "DE", "Jonas Weber"),
    ("447700900456", "GB", "Oliver Smith"),
    ("33612345678", "FR", "Camille Martin"),
    ("34612345678", "ES", "Lucía García"),
    ("31612345678", "NL", "Daan de Vries"),
    ("436641234567", "AT", "Anna Huber"),
    ("919812345678", "IN", "Priya Sharma"),
    ("5511912345678", "BR", "Ana Souza"),
    ("12025550143", "US", "Emily Johnson"),
    ("5215512345678", "MX", "Sofía Hernández"),
    ("819012345678", "JP", "Haruto Sato"),
]
# template name, category, weight
TEMPLATES = [
    ("order_update", "UTILITY", 30),
    ("delivery_eta", "UTILITY", 20),
    ("spring_sale", "MARKETING", 15),
    ("back_in_stock", "MARKETING", 10),
    ("login_code", "AUTHENTICATION", 12),
]
PER_DAY = (4, 12)


def _month_start(at: datetime, back: int) -> datetime:
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(back):
        start = (start - timedelta(days=1)).replace(day=1)
    return start


def _later_card(*, effective) -> RateCard:
    """A second card, in force from `effective`: the starting point with some prices changed."""
    card, created = RateCard.objects.get_or_create(
        currency="USD",
        effective_from=effective,
        defaults={"title": "Demo: a later card with changed prices (sample figures)", "source": "seed_demo"},
    )
    if created:
        base = RateCard.objects.filter(is_default_starting_point=True).order_by("effective_from").first()
        changed = {("Germany", "marketing"): Decimal("0.1420"), ("India", "marketing"): Decimal("0.0125")}
        Rate.objects.bulk_create(
            [
                Rate(
                    card=card,
                    market=r.market,
                    category=r.category,
                    unit_price=changed.get((r.market, r.category), r.unit_price),
                )
                for r in (base.rates.all() if base else [])
            ]
        )
    return card


def _conversations(numbers) -> list[Conversation]:
    conversations = []
    for wa_id, market, name in RECIPIENTS:
        contact, _created = Contact.objects.get_or_create(
            wa_id=wa_id, defaults={"market": market, "profile_name": name}
        )
        for number in numbers:
            conversation, _created = Conversation.objects.get_or_create(
                number=number, contact=contact, defaults={"status": Conversation.Status.RESOLVED}
            )
            conversations.append(conversation)
    return conversations


def _pricing(record: BillingRecord, *, flag: bool) -> dict:
    billable = record.amount > 0
    category = "marketing" if flag else record.category
    return {
        "billable": billable or flag,
        "pricing_model": "PMP",
        "type": "regular" if (billable or flag) else "free_customer_service",
        "category": category,
    }


def seed_billing(*, stdout, now: datetime) -> None:
    if Message.objects.filter(wamid=WAMID.format(1)).exists():
        stdout.write("Billing demo: already there.")
        return
    numbers = list(BusinessNumber.objects.filter(phone_number_id__in=NUMBERS).order_by("phone_number_id"))
    if not numbers:
        stdout.write("Billing demo: no demo numbers, skipped.")
        return
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["admin", "agent"])}
    senders = [users.get("admin"), users.get("agent"), None]  # None: sent through the API by a system
    rng = random.Random(2026)
    first = _month_start(now, 3)
    card = _later_card(effective=rules.day_of(_month_start(now, 1)))

    with transaction.atomic():
        conversations = _conversations(numbers)
        names = [t[0] for t in TEMPLATES]
        weights = [t[2] for t in TEMPLATES]
        categories = {t[0]: t[1] for t in TEMPLATES}
        sequence = 0
        flagged_done = False
        day = first
        while day < now:
            for _ in range(rng.randint(*PER_DAY)):
                at = day + timedelta(hours=rng.randint(7, 20), minutes=rng.randint(0, 59))
                if at >= now:
                    continue
                sequence += 1
                name = rng.choices(names, weights)[0]
                conversation = rng.choice(conversations)
                # A third of the utility notifications go out while the customer's window is open.
                in_window = categories[name] == "UTILITY" and rng.random() < 0.33
                conversation.last_inbound_at = at - timedelta(hours=2) if in_window else None
                conversation.save(update_fields=["last_inbound_at"])
                message = Message.objects.create(
                    conversation=conversation,
                    direction="out",
                    type="template",
                    text=name.replace("_", " "),
                    status=Message.Status.SENT,
                    sender=rng.choice(senders),
                    template_name=name,
                    template_language="de" if conversation.contact.market in ("DE", "AT") else "en",
                    template_category=categories[name],
                    wamid=WAMID.format(sequence),
                    sent_at=at,
                )
                record = billing_record_for_message(message=message, now=at)
                if record is None or at > now - timedelta(hours=6):
                    continue  # the last hours are still estimated
                if rng.random() < 0.03:
                    billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=at)
                    Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED, failed_at=at)
                    continue
                flag = (
                    not flagged_done
                    and categories[name] == "UTILITY"
                    and record.amount > 0
                    and at > first + timedelta(days=20)
                )
                flagged_done = flagged_done or flag
                billing_status_apply(
                    message_id=message.pk, status="delivered", pricing=_pricing(record, flag=flag), at=at
                )
                Message.objects.filter(pk=message.pk).update(status=Message.Status.DELIVERED, delivered_at=at)
            day += timedelta(days=1)
        for conversation in conversations:
            # Resolved notification threads, ordered in the inbox by their last notification.
            conversation.last_inbound_at = None
            conversation.last_message_at = (
                Message.objects.filter(conversation=conversation).aggregate(last=Max("sent_at"))["last"]
                or conversation.last_message_at
            )
            conversation.save(update_fields=["last_inbound_at", "last_message_at"])

        # A budget near its warning this month on the first number, a standing one on the other.
        month = rules.month_of(now)
        spent = sum(
            BillingRecord.objects.filter(
                number=numbers[0], sent_at__gte=_month_start(now, 0), state__in=("estimated", "billable")
            ).values_list("amount", flat=True),
            Decimal("0"),
        )
        amount = max((spent / Decimal("0.77")).quantize(Decimal("1")), Decimal("5"))
        Budget.objects.get_or_create(
            number=numbers[0],
            month=month,
            defaults={"amount": amount, "currency": "USD", "warning_share": Decimal("0.8"), "hard_stop": False},
        )
        if len(numbers) > 1:
            Budget.objects.get_or_create(
                number=numbers[1],
                month=None,
                defaults={
                    "amount": Decimal("250"),
                    "currency": "USD",
                    "warning_share": Decimal("0.9"),
                    "hard_stop": True,
                },
            )
    stdout.write(
        f"Billing demo: {sequence} priced notifications since {first:%Y-%m}, card change on {card.effective_from}."
    )
