"""The month as CSV for accounting: stable, documented columns (docs/billing.md), streamed.

Rows come from a server-side cursor (`.iterator(chunk_size=...)`) and are written in blocks, so
a month of a million records never sits in memory. A cell a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date

from billing import selectors

# Stable: add new columns at the end only.
COLUMNS = [
    "record_id",
    "kind",
    "adjusts_record_id",
    "message_id",
    "sent_at_utc",
    "number_phone_number_id",
    "number_display",
    "sender",
    "template",
    "template_language",
    "campaign_id",
    "category",
    "country",
    "market",
    "state",
    "currency",
    "unit_price",
    "amount",
    "rate_card_id",
    "free_reason",
    "meta_type",
    "meta_category",
    "flagged",
]
FIELDS = [
    "id",
    "kind",
    "adjusts_id",
    "message_id",
    "sent_at",
    "number__phone_number_id",
    "number__display_phone_number",
    "sender_name",
    "template_name",
    "template_language",
    "campaign_id",
    "category",
    "country",
    "market",
    "state",
    "currency",
    "unit_price",
    "amount",
    "rate_card_id",
    "free_reason",
    "meta_pricing__type",
    "meta_pricing__category",
    "flagged",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 5000
ROWS_PER_BLOCK = 2000


def safe(value) -> str:
    """The cell as text; one a spreadsheet would execute is prefixed with an apostrophe."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text and text[0] in DANGEROUS:
        return "'" + text
    return text


# Columns whose values can come from people or Meta (names, reasons) and need the guard;
# numbers and our own codes are written as they are (a negative adjustment stays a number).
GUARDED = {
    "number__display_phone_number",
    "sender_name",
    "template_name",
    "template_language",
    "country",
    "market",
    "free_reason",
    "meta_pricing__type",
    "meta_pricing__category",
}
_GUARDED_AT = [i for i, name in enumerate(FIELDS) if name in GUARDED]
_SENT_AT = FIELDS.index("sent_at")


def rows(*, month: date, number=None) -> Iterator[list[str]]:
    records = selectors.records_filtered(month=month, number=number).order_by("sent_at", "id")
    for values in records.values_list(*FIELDS).iterator(chunk_size=CHUNK):
        row = list(values)
        row[_SENT_AT] = row[_SENT_AT].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in _GUARDED_AT:
            row[i] = safe(row[i])
        yield row


def stream(*, month: date, number=None) -> Iterator[str]:
    """The CSV text in blocks of rows (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    pending = 0
    for row in rows(month=month, number=number):
        writer.writerow(row)
        pending += 1
        if pending >= ROWS_PER_BLOCK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
