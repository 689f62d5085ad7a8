"""Billing reads: the quote, the month summary, the records behind a figure.

The summary aggregates in SQL over `BillingRollup` (kept with the records; a month is a few
thousand rows however many records it has), plus one query for the previous month, one for the
flagged list (partial index) and one for the labels: a constant number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from billing import pricing, rules
from billing.models import BillingRecord, BillingRollup, Category, MonthlyUsage, PricingRule, VolumeUsage
from core.cursors import InvalidCursor, Position, split_page

ZERO = Decimal("0")
MICRO = Decimal("0.000001")
COUNTED = (BillingRecord.State.ESTIMATED, BillingRecord.State.BILLABLE)
STATES = [s.value for s in BillingRecord.State]
# Breakdown name -> column of billing_billingrecord.
DIMENSIONS = {
    "category": "category",
    "market": "market",
    "template": "template_name",
    "number": "number_id",
    "sender": "sender_name",
    "state": "state",
    "day": "day",
}


# --- quote ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    category: str
    market: str
    unit_price: Decimal
    amount: Decimal
    currency: str
    free: bool
    reason: str


def quote(
    *,
    number,
    contact,
    kind: str,
    template_category: str | None = None,
    at: datetime,
    conversation=None,
    in_window: bool | None = None,
) -> Quote:
    """What sending `kind` ("service" for a free-form message, or "template") to `contact` from
    `number` at `at` would cost. The window comes from `in_window`, else `conversation`, else
    the number's thread with the contact (none: outside the window). The free-tier position is
    read without a lock: the record written at send time is the exact figure."""
    if in_window is None:
        if conversation is None:
            from conversations.models import Conversation

            conversation = Conversation.objects.filter(number=number, contact=contact).first()
        in_window = conversation.window_open(at) if conversation is not None else False
    a = pricing.assess(
        number=number, contact=contact, kind=kind, template_category=template_category, at=at, in_window=in_window
    )
    if a.treatment == PricingRule.Treatment.FREE:
        return Quote(a.category, a.market, a.unit_price, ZERO, a.currency, True, pricing.reason_free_rule(a))
    if a.treatment == PricingRule.Treatment.FREE_TIER:
        used = _service_messages_counted(number, at)
        if used < a.free_tier:
            reason = pricing.reason_in_tier(a, used + 1)
            return Quote(a.category, a.market, a.unit_price, ZERO, a.currency, True, reason)
        reason = pricing.reason_charged(a, tier_used=True)
        return Quote(a.category, a.market, a.unit_price, a.unit_price, a.currency, False, reason)
    tiers = a.tiers  # read with the price
    if tiers:
        done = (
            VolumeUsage.objects.filter(month=rules.month_of(at), market=a.priced_market, category=a.rate_category)
            .values_list("count", flat=True)
            .first()
            or 0
        )
        price = rules.tier_price(tiers, position=done + 1, list_price=a.unit_price)
        if price != a.unit_price:
            reason = (
                pricing.reason_charged(a)
                + " "
                + _("Volume tier from message %(n)s this month: %(price)s.")
                % {
                    "n": max(v for v, _p in tiers if v <= done + 1),
                    "price": pricing.money(price),
                }
            )
            return Quote(a.category, a.market, price, price, a.currency, False, reason)
    return Quote(a.category, a.market, a.unit_price, a.unit_price, a.currency, False, pricing.reason_charged(a))


def _service_messages_counted(number, at: datetime) -> int:
    """The number's service messages counted against its free tier in `at`'s month so far."""
    used = (
        MonthlyUsage.objects.filter(number=number, month=rules.month_of(at))
        .values_list("service_count", flat=True)
        .first()
    )
    return used or 0


def reply_price(*, number, contact, at: datetime) -> Quote | None:
    """What a free-form reply inside the window costs at `at`; None while it is free.

    The composer asks this for every thread it shows, and a reply is free most of the time:
    that is settled by the service rule and the month's count alone, so the market, budget,
    card and price are read (by `quote`, which gives the answer) only for a charged reply.
    """
    with rules.lookups_shared():
        rule = rules.rule_for(category=Category.SERVICE, in_window=True, at=at)
        treatment = rule.treatment if rule is not None else None
        if treatment == PricingRule.Treatment.FREE:
            return None
        tier = rule.free_tier_size() if treatment == PricingRule.Treatment.FREE_TIER else 0
        if tier and _service_messages_counted(number, at) < tier:
            return None
        answer = quote(number=number, contact=contact, kind="service", at=at, in_window=True)
    return None if answer.free else answer


# --- months -----------------------------------------------------------------------------------


def parse_month(value: str | None) -> date:
    """`YYYY-MM` -> the first day of that month; ValueError otherwise."""
    if not value or len(value) != 7 or value[4] != "-":
        raise ValueError("month must be YYYY-MM")
    year, month = int(value[:4]), int(value[5:])
    return date(year, month, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, end


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


# --- summary ----------------------------------------------------------------------------------


@dataclass
class Figure:
    count: int = 0
    total: Decimal = ZERO

    def as_dict(self) -> dict:
        return {"count": self.count, "total": str(self.total)}


@dataclass
class CurrencySummary:
    currency: str
    total: Decimal = ZERO
    count: int = 0
    by_state: dict[str, Figure] = field(default_factory=dict)
    by_category: dict[str, Figure] = field(default_factory=dict)
    by_market: dict[str, Figure] = field(default_factory=dict)
    by_template: dict[str, Figure] = field(default_factory=dict)
    by_number: dict[str, Figure] = field(default_factory=dict)
    by_sender: dict[str, Figure] = field(default_factory=dict)
    by_day: dict[str, Figure] = field(default_factory=dict)
    previous_total: Decimal = ZERO
    previous_count: int = 0


@dataclass
class MonthSummary:
    month: date
    totals: list[CurrencySummary]
    flagged: list[BillingRecord]
    number_labels: dict[int, str]
    number_phone_ids: dict[int, str] = field(default_factory=dict)


def _month_filter(month: date, number=None) -> Q:
    start, end = month_bounds(month)
    q = Q(sent_at__gte=start, sent_at__lt=end)
    if number is not None:
        q &= Q(number=number)
    return q


_ROLLUP_SQL = """
    WITH cells AS (
        SELECT currency, state, dimension, key, day, number_id, count, amount
        FROM billing_billingrollup
        WHERE day >= %s AND day < %s {number}
    )
    SELECT currency, dimension, key, sum(count), COALESCE(sum(amount) FILTER (WHERE state = ANY(%s)), 0)
      FROM cells WHERE dimension <> 'all' GROUP BY currency, dimension, key HAVING sum(count) > 0
    UNION ALL
    SELECT currency, 'state', state, sum(count), COALESCE(sum(amount) FILTER (WHERE state = ANY(%s)), 0)
      FROM cells WHERE dimension = 'all' GROUP BY currency, state HAVING sum(count) > 0
    UNION ALL
    SELECT currency, 'day', day::text, sum(count), COALESCE(sum(amount) FILTER (WHERE state = ANY(%s)), 0)
      FROM cells WHERE dimension = 'all' GROUP BY currency, day HAVING sum(count) > 0
    UNION ALL
    SELECT currency, 'number', number_id::text, sum(count), COALESCE(sum(amount) FILTER (WHERE state = ANY(%s)), 0)
      FROM cells WHERE dimension = 'all' GROUP BY currency, number_id HAVING sum(count) > 0
"""


def _grouped_rollup(month: date, number) -> list[tuple]:
    """(currency, dimension, key, count, total) rows from the rollup (a few thousand rows a month,
    whatever the number of records): PostgreSQL."""
    start, end = month_bounds(month)
    counted = [str(s) for s in COUNTED]
    params: list = [start.date(), end.date()]
    if number is not None:
        params.append(number.pk)
    params += [counted] * 4
    sql = _ROLLUP_SQL.format(number="AND number_id = %s" if number is not None else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _previous_totals(month: date, number) -> list[tuple]:
    """(currency, count, total) of a month."""
    if connection.vendor == "postgresql":
        start, end = month_bounds(month)
        rows = BillingRollup.objects.filter(day__gte=start.date(), day__lt=end.date(), dimension="all")
        if number is not None:
            rows = rows.filter(number=number)
        return list(
            rows.values("currency")
            .annotate(n=Sum("count"), total=Sum("amount", filter=Q(state__in=COUNTED)))
            .values_list("currency", "n", "total")
        )
    return list(
        BillingRecord.objects.filter(_month_filter(month, number))
        .values("currency")
        .annotate(n=Count("id"), total=Sum("amount", filter=Q(state__in=COUNTED)))
        .values_list("currency", "n", "total")
    )


def _grouped_portable(month: date, number) -> list[tuple]:
    """The same rows straight from the records, one ORM query per breakdown: SQLite (the embedded
    default, where decimal sums in SQL would go through floats), and the tests' cross-check."""
    records = BillingRecord.objects.filter(_month_filter(month, number))
    out: list[tuple] = []
    for name, column in DIMENSIONS.items():
        qs = records.annotate(day=TruncDate("sent_at", tzinfo=UTC)) if name == "day" else records
        for row in qs.values("currency", column).annotate(
            n=Count("id"), total=Sum("amount", filter=Q(state__in=COUNTED))
        ):
            out.append((row["currency"], name, str(row[column]), row["n"], row["total"] or ZERO))
    return out


def _grouped(month: date, number) -> list[tuple]:
    if connection.vendor == "postgresql":
        return _grouped_rollup(month, number)
    return _grouped_portable(month, number)


def _money(value) -> Decimal:
    """Six places, as stored (SQLite's sums come back with float noise)."""
    return Decimal(str(value or 0)).quantize(MICRO)


def summary(*, month: date, number=None) -> MonthSummary:
    """The month's figures per currency (never mixed): total (estimated + billable), count,
    breakdowns, the day-by-day series, the flagged records and the previous month's totals."""
    from conversations.models import BusinessNumber

    per_currency: dict[str, CurrencySummary] = {}
    for currency, dimension, key, count, total in _grouped(month, number):
        entry = per_currency.setdefault(currency, CurrencySummary(currency=currency))
        figure = Figure(count=int(count), total=_money(total))
        getattr(entry, f"by_{dimension}")[key if key is not None else ""] = figure
        if dimension == "state":
            entry.count += figure.count
            entry.total += figure.total
    for currency, count, total in _previous_totals(previous_month(month), number):
        entry = per_currency.setdefault(currency, CurrencySummary(currency=currency))
        entry.previous_total = _money(total)
        entry.previous_count = count or 0
    for entry in per_currency.values():
        entry.by_day = dict(sorted(entry.by_day.items()))
        for name in ("by_category", "by_market", "by_template", "by_number", "by_sender"):
            items = getattr(entry, name)
            setattr(entry, name, dict(sorted(items.items(), key=lambda kv: (-kv[1].total, -kv[1].count, kv[0]))))
    flagged = list(
        BillingRecord.objects.filter(_month_filter(month, number), flagged=True)
        .select_related("number")
        .order_by("-sent_at", "-id")[:50]
    )
    number_ids = {int(k) for e in per_currency.values() for k in e.by_number if k}
    numbers = list(BusinessNumber.objects.filter(pk__in=number_ids)) if number_ids else []
    return MonthSummary(
        month=month,
        totals=sorted(per_currency.values(), key=lambda e: e.currency),
        flagged=flagged,
        number_labels={n.pk: str(n) for n in numbers},
        number_phone_ids={n.pk: n.phone_number_id for n in numbers},
    )


# --- records behind a figure (keyset) -----------------------------------------------------------

FILTERS = {
    "category": "category",
    "market": "market",
    "template": "template_name",
    "number": "number_id",
    "sender": "sender_name",
    "state": "state",
    "currency": "currency",
}


def records_filtered(*, month: date, number=None, filters: dict[str, str] | None = None):
    qs = BillingRecord.objects.filter(_month_filter(month, number))
    for name, value in (filters or {}).items():
        if name == "flagged" and value:
            qs = qs.filter(flagged=True)
        elif name == "day" and value:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            qs = qs.filter(sent_at__gte=start, sent_at__lt=start + timedelta(days=1))
        elif name in FILTERS and value is not None:
            qs = qs.filter(**{FILTERS[name]: value})
    return qs


def records_page(
    *,
    month: date,
    number=None,
    filters: dict[str, str] | None = None,
    after: Position | None = None,
    limit: int = 50,
) -> tuple[list[BillingRecord], Position | None]:
    """One page of the month's records in (sent_at, id) order, and where the next one starts
    (None on the last page); `after` is a `core.cursors` position. Raises InvalidCursor for a
    position without a time: every record has one."""
    qs = records_filtered(month=month, number=number, filters=filters)
    if after is not None:
        if after.at is None:
            raise InvalidCursor("every billing record has a time")
        qs = qs.filter(Q(sent_at__gt=after.at) | Q(sent_at=after.at, id__gt=after.pk))
    rows = list(qs.select_related("number", "rate_card").order_by("sent_at", "id")[: limit + 1])
    return split_page(rows, limit, lambda record: Position(record.sent_at, record.pk))


# --- budgets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetState:
    number: object
    amount: Decimal
    currency: str
    spent: Decimal
    left: Decimal
    share: Decimal
    warning: bool
    hard_stop: bool


def budgets_for_month(*, month: date) -> list[BudgetState]:
    from conversations.models import BusinessNumber

    out = []
    for number in BusinessNumber.objects.order_by("display_phone_number"):
        budget = pricing.budget_for(number=number, month=month)
        if budget is None:
            continue
        spent = (
            BillingRecord.objects.filter(
                _month_filter(month, number), currency=budget.currency, state__in=COUNTED
            ).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        share = (spent / budget.amount) if budget.amount else Decimal("1")
        out.append(
            BudgetState(
                number=number,
                amount=budget.amount,
                currency=budget.currency,
                spent=spent,
                left=max(budget.amount - spent, ZERO),
                share=share,
                warning=share >= budget.warning_share,
                hard_stop=budget.hard_stop,
            )
        )
    return out


def day_series(entry: CurrencySummary, month: date) -> list[tuple[date, Figure]]:
    """Every day of the month with its figure (zero when nothing was sent)."""
    start, end = month_bounds(month)
    days = []
    day = start.date()
    while day < end.date():
        days.append((day, entry.by_day.get(day.isoformat(), Figure())))
        day += timedelta(days=1)
    return days
