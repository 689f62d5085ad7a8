"""The month's CSV export over a million records: rows per second and peak memory.

    .venv/bin/python bench/billing_export.py [--keep] [--records 1000000]

Uses the scratch database of bench/billing_summary.py (BENCH_BILLING_DATABASE_URL; filled by
it unless --keep, which reuses what is there). Drives the real view (`GET /billing/export.csv`
through Django's test client, as a finance user) and consumes the streamed body, counting rows
and bytes; tracemalloc reports the peak of Python memory while streaming, and the resident set
size is read before and after. Prints one JSON line per figure. Target: >= 100k rows/s with
flat memory. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from billing_summary import DEFAULT_URL, MONTH, ensure_database, fill, setup_django  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the filled database")
    parser.add_argument("--python-path", action="store_true", help="also time the portable (non-COPY) path")
    args = parser.parse_args()
    url = os.environ.get("BENCH_BILLING_DATABASE_URL", DEFAULT_URL)
    ensure_database(url, fresh=not args.keep)
    setup_django(url)
    if not args.keep:
        fill(args.records)

    from django.conf import settings
    from django.test import Client

    from inbox.services import user_create_or_update

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user_create_or_update(username="bench-finance", role="finance", password="bench-finance-pw")
    client = Client()
    assert client.login(username="bench-finance", password="bench-finance-pw")

    def consume(chunks) -> tuple[int, int, float, float]:
        started = time.perf_counter()
        rows = size = 0
        first_byte = None
        for chunk in chunks:
            if first_byte is None:
                first_byte = time.perf_counter() - started
            data = chunk if isinstance(chunk, bytes) else chunk.encode()
            rows += data.count(b"\n")
            size += len(data)
        return rows - 1, size, time.perf_counter() - started, first_byte or 0.0

    # 1. Throughput through the real view (PostgreSQL: COPY ... TO STDOUT), no tracing.
    rss_before = _rss_mb()
    response = client.get(f"/billing/export.csv?month={MONTH}")
    assert response.status_code == 200 and response.streaming
    rows, size, elapsed, first_byte = consume(response.streaming_content)
    rss_after = _rss_mb()
    print(
        json.dumps(
            {
                "figure": "billing_export_csv",
                "path": "view, COPY TO STDOUT",
                "rows": rows,
                "megabytes": round(size / 1e6, 1),
                "seconds": round(elapsed, 2),
                "rows_per_second": round(rows / elapsed),
                "first_byte_ms": round(first_byte * 1000),
                "rss_before_mb": round(rss_before),
                "rss_after_mb": round(rss_after),
                "target_rows_per_second": 100_000,
            }
        )
    )

    # 2. The same again under tracemalloc: the peak of Python allocations while streaming.
    tracemalloc.start()
    rows, size, elapsed, _first = consume(client.get(f"/billing/export.csv?month={MONTH}").streaming_content)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"figure": "billing_export_csv_memory", "rows": rows, "python_peak_mb": round(peak / 1e6, 1)}))

    # 3. The portable path (server-side cursor + csv writer; SQLite's path), for comparison.
    if args.python_path:
        from billing import export
        from billing.selectors import parse_month

        rows, size, elapsed, _first = consume(export._stream_python(month=parse_month(MONTH)))
        print(
            json.dumps(
                {
                    "figure": "billing_export_csv",
                    "path": "iterator(chunk_size) + csv.writer",
                    "rows": rows,
                    "seconds": round(elapsed, 2),
                    "rows_per_second": round(rows / elapsed),
                    "rss_after_mb": round(_rss_mb()),
                }
            )
        )


if __name__ == "__main__":
    main()
