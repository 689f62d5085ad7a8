"""Campaign reads: the dry run, the progress bar, the recipients page and the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from conversations.models import Message

# Meta's messaging limit: unique customers reached with templates outside the service window in
# a moving 24 hours, per business portfolio. The tier Meta last reported for the number counts;
# until it has reported one, CAMPAIGN_MESSAGING_LIMIT (250, 2000, 10000, 100000; 0 = unlimited).
DEFAULT_MESSAGING_LIMIT = 2_000
ZERO = Decimal("0")


def messaging_limit(number=None) -> tuple[int, bool]:
    """The limit (0: unlimited) and whether it is Meta's reported tier for `number` (True) or
    the configured one (False)."""
    from whatsapp.limits import tier_size

    reported = tier_size(number.messaging_limit) if number is not None else None
    if reported is not None:
        return reported, True
    return int(getattr(settings, "CAMPAIGN_MESSAGING_LIMIT", DEFAULT_MESSAGING_LIMIT) or 0), False


def numbers_for_campaigns(user):
    """The business numbers whose campaigns the user sees and starts: an agent's own numbers
    (all of them when set to all numbers), every number for admins; as the inbox scopes them."""
    from conversations.selectors import numbers_for_user

    return numbers_for_user(user)


def campaigns_for_user(user):
    """The campaigns of the user's numbers (an agent never learns of another number's)."""
    return Campaign.objects.filter(number__in=numbers_for_campaigns(user))


def campaigns_list(*, user, limit: int = 100):
    return (
        campaigns_for_user(user)
        .select_related("number", "created_by")
        .annotate(recipient_count=Count("recipients"))
        .order_by("-created_at")[:limit]
    )


# --- progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    skipped: int

    @property
    def handled(self) -> int:
        return self.total - self.pending

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0

    @property
    def done_percent(self) -> int:
        return self.percent(self.handled)


def progress(campaign: Campaign) -> Progress:
    """Counts by where each recipient is now; sent recipients follow their message's status live."""
    counts = Counter()
    rows = (
        Recipient.objects.filter(campaign=campaign)
        .values("state", "message__status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        status = row["message__status"]
        if status in (Message.Status.QUEUED, Message.Status.SENDING):
            counts["queued"] += row["n"]
        elif status in (Message.Status.SENT,):
            counts["sent"] += row["n"]
        elif status == Message.Status.DELIVERED:
            counts["delivered"] += row["n"]
        elif status in (Message.Status.READ, Message.Status.PLAYED):
            counts["read"] += row["n"]
        elif status == Message.Status.FAILED:
            counts["failed"] += row["n"]
        else:
            counts[row["state"]] += row["n"]
    total = sum(counts.values())
    return Progress(
        total=total,
        **{key: counts[key] for key in ("pending", "queued", "sent", "delivered", "read", "failed", "skipped")},
    )


def recipients_page(campaign: Campaign, *, after: int = 0, limit: int = 100, state: str = ""):
    """Recipients by id (keyset), with their message; `state` filters (failed, skipped, ...)."""
    qs = Recipient.objects.filter(campaign=campaign, id__gt=after).select_related("message").order_by("id")
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


# --- the dry run ---------------------------------------------------------------------------------


@dataclass
class MarketCost:
    market: str
    count: int
    unit_price: Decimal
    amount: Decimal
    currency: str
    category: str


@dataclass
class DryRun:
    recipients: int
    invalid: list[dict]
    invalid_count: int
    duplicates: list[dict]
    duplicate_count: int
    opted_out: list[Recipient]
    beyond_limit: int
    messaging_limit: int
    reached_last_24h: int
    limit_reported_by_meta: bool = False
    costs: list[MarketCost] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    budget_left: Decimal | None = None
    budget_currency: str = ""
    over_budget: bool = False
    category: str = ""

    @property
    def sendable(self) -> int:
        return self.recipients - len(self.opted_out) - self.beyond_limit


def _reached_last_24h(campaign: Campaign, *, at: datetime) -> int:
    """Distinct customers this number's portfolio reached with templates in the last 24 hours."""
    from datetime import timedelta

    from conversations.models import BusinessNumber

    numbers = BusinessNumber.objects.filter(waba_id=campaign.number.waba_id)
    return (
        Message.objects.filter(
            conversation__number__in=numbers,
            direction=Message.Direction.OUT,
            type="template",
            created_at__gte=at - timedelta(hours=24),
        )
        .exclude(status=Message.Status.FAILED)
        .values("conversation__contact")
        .distinct()
        .count()
    )


def dry_run(campaign: Campaign, *, at: datetime | None = None) -> DryRun:
    """What starting the campaign now would do, before anything is sent."""
    from billing import selectors as billing
    from templates_app.models import Template

    at = at or timezone.now()
    report = campaign.import_report or {}
    template = Template.objects.filter(
        waba_id=campaign.number.waba_id, name=campaign.template, language=campaign.language
    ).first()
    category = (template.category if template else "") or "MARKETING"
    pending = Recipient.objects.filter(campaign=campaign, state=Recipient.State.PENDING).select_related("contact")
    opted_out = []
    if category == "MARKETING":
        opted_out = list(pending.filter(contact__marketing_opted_out_at__isnull=False).order_by("id")[:1000])
    opted_out_ids = {r.pk for r in opted_out}
    sendable = pending.exclude(pk__in=opted_out_ids)
    limit, reported = messaging_limit(campaign.number)
    reached = _reached_last_24h(campaign, at=at)
    sendable_count = sendable.count()
    beyond = max(0, sendable_count - max(0, limit - reached)) if limit else 0

    costs: list[MarketCost] = []
    totals: dict[str, Decimal] = {}
    by_market = sendable.values("contact__market").annotate(n=Count("id"), sample=Count("id")).order_by()
    for row in by_market:
        market = row["contact__market"]
        sample = sendable.filter(contact__market=market).first()
        quote = billing.quote(
            number=campaign.number, contact=sample.contact, kind="template", template_category=category, at=at
        )
        amount = quote.amount * row["n"]
        costs.append(
            MarketCost(quote.market or market, row["n"], quote.unit_price, amount, quote.currency, quote.category)
        )
        totals[quote.currency] = totals.get(quote.currency, ZERO) + amount
    costs.sort(key=lambda c: (-c.amount, c.market))

    budget_left, budget_currency, over = None, "", False
    for state in billing.budgets_for_month(month=at.date().replace(day=1)):
        if state.number.pk == campaign.number_id:
            budget_left, budget_currency = state.left, state.currency
            over = totals.get(state.currency, ZERO) > state.left
    return DryRun(
        recipients=pending.count(),
        invalid=report.get("invalid", []),
        invalid_count=report.get("invalid_count", 0),
        duplicates=report.get("duplicates", []),
        duplicate_count=report.get("duplicate_count", 0),
        opted_out=opted_out,
        beyond_limit=beyond,
        messaging_limit=limit,
        reached_last_24h=reached,
        limit_reported_by_meta=reported,
        costs=costs,
        totals=totals,
        budget_left=budget_left,
        budget_currency=budget_currency,
        over_budget=over,
        category=category,
    )


def report_rows(campaign: Campaign):
    """Every recipient, for the CSV at the end (id order, streamed)."""
    return (
        Recipient.objects.filter(campaign=campaign)
        .select_related("message")
        .order_by("id")
        .values_list("wa_id", "name", "state", "reason", "message__status", "message__error_code", "message_id")
        .iterator(chunk_size=2000)
    )


def failed_filter() -> Q:
    return Q(state=Recipient.State.FAILED) | Q(state=Recipient.State.SKIPPED)
