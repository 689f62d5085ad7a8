"""The month as CSV for accounting: stable, documented columns (docs/billing.md), streamed.

On PostgreSQL the rows come from `COPY (SELECT ...) TO STDOUT (FORMAT csv)`: the server writes
the CSV and we pass it on in blocks (about ten times faster than building rows in Python). On
other databases rows come from a server-side cursor (`.iterator(chunk_size=...)`) through
Python's csv writer. Either way a month of a million records never sits in memory, and both
give the same bytes. A cell a spreadsheet would run as a formula (starting with = + - @, a tab
or a carriage return) gets a leading apostrophe; numbers are written as numbers.

Under ASGI the body must be an async iterator (Django would otherwise collect a sync one into
a list first): `aiterate` hands each block over from the one sync thread that holds the cursor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date

from asgiref.sync import sync_to_async
from django.db import connection

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


def _header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(COLUMNS)
    return buffer.getvalue()


def _stream_python(*, month: date, number=None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write(_header())
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


def _safe_sql(column: str) -> str:
    # NULLIF: COPY quotes an empty string ("") to tell it from NULL; Python's writer does not.
    starts_like_formula = f"left({column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r')"
    guarded = f"CASE WHEN {starts_like_formula} THEN '''' || {column} ELSE {column} END"
    return f"NULLIF({guarded}, '')"


_COPY_COLUMNS = [
    "r.id",
    "r.kind",
    "r.adjusts_id",
    "r.message_id",
    """to_char(r.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""",
    "n.phone_number_id",
    _safe_sql("n.display_phone_number"),
    _safe_sql("r.sender_name"),
    _safe_sql("r.template_name"),
    _safe_sql("r.template_language"),
    "r.campaign_id",
    "r.category",
    _safe_sql("r.country"),
    _safe_sql("r.market"),
    "r.state",
    "r.currency",
    "r.unit_price",
    "r.amount",
    "r.rate_card_id",
    _safe_sql("r.free_reason"),
    _safe_sql("(r.meta_pricing ->> 'type')"),
    _safe_sql("(r.meta_pricing ->> 'category')"),
    "CASE WHEN r.flagged THEN 'True' ELSE 'False' END",
]
BLOCK_BYTES = 256 * 1024


def _stream_copy(*, month: date, number=None) -> Iterator[str]:
    start, end = selectors.month_bounds(month)
    where = "r.sent_at >= %s AND r.sent_at < %s"
    params: list = [start, end]
    if number is not None:
        where += " AND r.number_id = %s"
        params.append(number.pk)
    sql = (
        f"COPY (SELECT {', '.join(_COPY_COLUMNS)} FROM billing_billingrecord r"
        f" JOIN conversations_businessnumber n ON n.id = r.number_id WHERE {where}"
        " ORDER BY r.sent_at, r.id) TO STDOUT (FORMAT csv)"
    )
    yield _header()
    block = bytearray()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for data in copy:
            block += data
            if len(block) >= BLOCK_BYTES:
                yield block.decode()
                block.clear()
    if block:
        yield block.decode()


def stream(*, month: date, number=None) -> Iterator[str]:
    """The CSV text in blocks (header first)."""
    if connection.vendor == "postgresql":
        return _stream_copy(month=month, number=number)
    return _stream_python(month=month, number=number)


_DONE = object()


async def aiterate(blocks: Iterator[str]) -> AsyncIterator[str]:
    """Serve a sync block iterator to ASGI block by block (thread-sensitive: one thread keeps the cursor)."""
    pull = sync_to_async(lambda: next(blocks, _DONE), thread_sensitive=True)
    while (block := await pull()) is not _DONE:
        yield block
