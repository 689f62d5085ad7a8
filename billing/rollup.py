"""Keeping `BillingRollup` in step with the records, in the records' own transaction.

Each record counts once under dimension `all` and once under each breakdown (category, market,
template, sender), in the row of its UTC day, number, currency and state. A change of state or
amount moves it: minus the old cell, plus the new. Writers take the number's `MonthlyUsage`
lock before touching the rollup, so rollup rows never take part in a lock cycle.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from billing.models import BillingRecord, BillingRollup

# dimension -> record attribute
DIMENSIONS = {
    "all": None,
    "category": "category",
    "market": "market",
    "template": "template_name",
    "sender": "sender_name",
}

_UPSERT = """
INSERT INTO billing_billingrollup (day, number_id, currency, state, dimension, key, count, amount)
VALUES {values}
ON CONFLICT (day, number_id, currency, state, dimension, key) DO UPDATE
SET count = billing_billingrollup.count + EXCLUDED.count,
    amount = billing_billingrollup.amount + EXCLUDED.amount
"""


def _cells(record: BillingRecord, *, state: str, amount: Decimal, sign: int) -> list[tuple]:
    day = record.sent_at.astimezone(UTC).date()
    return [
        (
            day,
            record.number_id,
            record.currency,
            state,
            dimension,
            getattr(record, attr) if attr else "",
            sign,
            amount * sign,
        )
        for dimension, attr in DIMENSIONS.items()
    ]


def rollup_record(record: BillingRecord, *, before: tuple[str, Decimal] | None = None) -> None:
    """Count `record` as it is now; with `before` (its old state and amount), uncount that first."""
    cells = _cells(record, state=record.state, amount=record.amount, sign=1)
    if before is not None:
        if before == (record.state, record.amount):
            return
        cells = _cells(record, state=before[0], amount=before[1], sign=-1) + cells
    # One statement; cells of the same key are merged first (ON CONFLICT cannot touch a row twice).
    merged: dict[tuple, list] = {}
    for day, number_id, currency, state, dimension, key, count, amount in cells:
        cell = merged.setdefault((day, number_id, currency, state, dimension, key), [0, Decimal("0")])
        cell[0] += count
        cell[1] += amount
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(merged))
    params: list = []
    for (day, number_id, currency, state, dimension, key), (count, amount) in merged.items():
        params += [day, number_id, currency, state, dimension, key, count, amount]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(values=values), params)


@transaction.atomic
def rollup_rebuild(*, start=None, end=None) -> int:
    """Recompute the rollup from the records (all, or sent in [start, end)): a repair tool and
    the way bulk-loaded records (the benches) get counted. Returns the number of rollup rows."""
    records = BillingRecord.objects.all()
    rollups = BillingRollup.objects.all()
    if start is not None:
        records = records.filter(sent_at__gte=start)
        rollups = rollups.filter(day__gte=start.astimezone(UTC).date())
    if end is not None:
        records = records.filter(sent_at__lt=end)
        rollups = rollups.filter(day__lt=end.astimezone(UTC).date())
    rollups.delete()
    made = 0
    by_day = records.annotate(day=TruncDate("sent_at", tzinfo=UTC))
    for dimension, attr in DIMENSIONS.items():
        columns = ["day", "number_id", "currency", "state"] + ([attr] if attr else [])
        rows = by_day.values(*columns).annotate(n=Count("id"), total=Sum("amount")).order_by()
        batch = [
            BillingRollup(
                day=row["day"],
                number_id=row["number_id"],
                currency=row["currency"],
                state=row["state"],
                dimension=dimension,
                key=row[attr] if attr else "",
                count=row["n"],
                amount=row["total"] or Decimal("0"),
            )
            for row in rows.iterator(chunk_size=5000)
        ]
        BillingRollup.objects.bulk_create(batch, batch_size=5000)
        made += len(batch)
    return made
