"""The finance month summary over a million billing records: build a scratch database, time it.

    .venv/bin/python bench/billing_summary.py [--records 1000000] [--keep] [--runs 7]

Creates (or reuses with --keep) BENCH_BILLING_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/inbox_bench_billing), migrates it, inserts the records of one
month with INSERT ... SELECT generate_series (plus a tenth as many in the month before, for the
month-over-month figure), then times `billing.selectors.summary` (what the page and the API run)
for all numbers and for one. Prints one JSON line per figure. Target: <= 200 ms. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inbox_bench_billing"
MONTH = "2026-10"


def ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists and fresh:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def fill(records: int) -> None:
    """`records` in October 2026 and records/10 in September, spread over days, numbers,
    categories, markets, templates, senders and states; about 3 % in EUR."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE billing_billingrecord, billing_billingrollup RESTART IDENTITY CASCADE")
        for pid in ("100000000000001", "100000000000002", "100000000000003"):
            cur.execute(
                "INSERT INTO conversations_businessnumber (phone_number_id, display_phone_number, waba_id, name,"
                " stopped_reason, created_at) VALUES (%s, %s, '1', %s, '', now()) ON CONFLICT DO NOTHING",
                [pid, "+49 30 " + pid[-4:], "Bench " + pid[-1]],
            )
        cur.execute("SELECT id FROM conversations_businessnumber ORDER BY id")
        numbers = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT id FROM billing_ratecard ORDER BY id LIMIT 1")
        card = cur.fetchone()[0]
        for start, count in (("2026-10-01", records), ("2026-09-01", records // 10)):
            # Independent random draws per dimension (seeded), so the breakdown values combine as
            # freely as real traffic would: the worst case for the rollup's size.
            cur.execute("SELECT setseed(0.42)")
            cur.execute(
                """
                INSERT INTO billing_billingrecord (kind, number_id, sender_name, rate_card_id, country, market,
                    category, unit_price, amount, currency, template_name, template_language, state, free_reason,
                    delivered, flagged, flag, meta_pricing, sent_at, created_at, updated_at)
                SELECT 'charge', (%(numbers)s::bigint[])[1 + floor(random() * 3)::int],
                       (ARRAY['', 'anna', 'ben', 'clara', 'shop-api', 'crm-api'])[1 + floor(random() * 6)::int],
                       %(card)s, 'DE',
                       (ARRAY['Germany','United Kingdom','France','Spain','Italy','Netherlands','India','Brazil',
                              'Mexico','North America','Rest of Western Europe','Rest of Asia Pacific','Other'])
                           [1 + floor(random() * 13)::int],
                       (ARRAY['marketing','utility','utility','authentication','service'])
                           [1 + floor(random() * 5)::int],
                       0.0550, CASE WHEN s.state IN ('free', 'void') THEN 0 ELSE 0.0550 END,
                       CASE WHEN random() < 0.03 THEN 'EUR' ELSE 'USD' END,
                       'template_' || floor(random() * 25)::text, 'de', s.state, '', true,
                       random() < 0.0002, NULL, NULL,
                       %(start)s::timestamptz + (((g - 1)::float8 / %(count)s) * interval '30 days'),
                       now(), now()
                FROM generate_series(1, %(count)s) AS g
                CROSS JOIN LATERAL (SELECT (ARRAY['billable','billable','billable','billable','billable','billable',
                                                  'estimated','free','void','billable'])
                                           [1 + floor(random() * 10 + g * 0)::int] AS state) s
                """,
                {"numbers": numbers, "card": card, "start": start, "count": count},
            )
    # Records written by the services keep the rollup themselves; bulk-loaded ones are counted
    # by the same repair tool an operator would run.
    from billing.rollup import rollup_rebuild

    rollup_rebuild()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE billing_billingrecord")
        cur.execute("VACUUM ANALYZE billing_billingrollup")


def time_it(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="reuse the filled database")
    args = parser.parse_args()
    url = os.environ.get("BENCH_BILLING_DATABASE_URL", DEFAULT_URL)
    ensure_database(url, fresh=not args.keep)
    setup_django(url)
    if not args.keep:
        t = time.perf_counter()
        fill(args.records)
        print(json.dumps({"figure": "fill", "records": args.records, "seconds": round(time.perf_counter() - t, 1)}))

    from billing.models import BillingRecord
    from billing.selectors import parse_month, summary
    from conversations.models import BusinessNumber

    month = parse_month(MONTH)
    from billing.models import BillingRollup
    from billing.selectors import month_bounds

    start, end = month_bounds(month)
    in_month = BillingRecord.objects.filter(sent_at__gte=start, sent_at__lt=end).count()
    rollup_rows = BillingRollup.objects.filter(day__gte=start.date(), day__lt=end.date()).count()
    result = summary(month=month)
    assert sum(e.count for e in result.totals) == in_month
    print(
        json.dumps(
            {
                "figure": "billing_summary_all_numbers",
                "records_in_month": in_month,
                "rollup_rows": rollup_rows,
                **time_it(lambda: summary(month=month), args.runs),
                "target_ms": 200,
            }
        )
    )
    number = BusinessNumber.objects.order_by("id").first()
    print(
        json.dumps(
            {
                "figure": "billing_summary_one_number",
                "records_in_month": in_month // 3,
                **time_it(lambda: summary(month=month, number=number), args.runs),
                "target_ms": 200,
            }
        )
    )


if __name__ == "__main__":
    main()
