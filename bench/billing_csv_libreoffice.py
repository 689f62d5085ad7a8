"""Does the month's CSV open in LibreOffice as accounting needs it? A check scenario, not a test
(LibreOffice is not part of the test machines): `apt-get install libreoffice-calc-nogui` first.

    .venv/bin/python bench/billing_csv_libreoffice.py [--records 2000]

On a fresh scratch database (BENCH_BILLING_LO_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/inbox_bench_billing_lo) it sends template messages through
the real billing service, some with template names a spreadsheet would execute (`=1+1`,
`+49…`, `@SUM(…)`, `-2+3`, a tab), voids and frees a few through status webhooks, downloads
`/billing/export.csv` through the view, and lets LibreOffice read it and write it back
(`soffice --headless --convert-to csv`). LibreOffice writes computed values, so a cell that had
run as a formula would come back as its result. Prints one JSON line: rows in and out, whether
every dangerous name came back as text, and whether the total equals the page's.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from billing_summary import ensure_database, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inbox_bench_billing_lo"
DANGEROUS = ["=1+1", "+4930123", "@SUM(1;2)", "-2+3", "\tindent", '=HYPERLINK("http://example.com";"x")']


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("LibreOffice is not installed: apt-get install -y libreoffice-calc-nogui")
    url = os.environ.get("BENCH_BILLING_LO_DATABASE_URL", DEFAULT_URL)
    ensure_database(url, fresh=True)
    setup_django(url)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    from billing.selectors import parse_month, summary
    from billing.services import billing_record_for_message, billing_status_apply
    from conversations.models import Contact, Conversation, Message
    from conversations.services_numbers import business_number_add
    from inbox.services import user_create_or_update

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    number = business_number_add(phone_number_id="100000000000001", display_phone_number="+49 30 1", waba_id="1")
    contacts = [
        Contact.objects.create(wa_id=wa_id, market=market)
        for wa_id, market in (("4915112345678", "DE"), ("447700900123", "GB"), ("5511912345678", "BR"))
    ]
    conversations = [Conversation.objects.create(number=number, contact=c) for c in contacts]
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    for i in range(args.records):
        at = start + timedelta(minutes=20 * i)
        name = DANGEROUS[i] if i < len(DANGEROUS) else f"template_{i % 7}"
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversations[i % 3],
                direction="out",
                type="template",
                status="sent",
                template_name=name,
                template_language="de",
                template_category=("MARKETING", "UTILITY")[i % 2],
                wamid=f"wamid.LO{i}",
            )
            billing_record_for_message(message=message, now=at)
        if i % 50 == 7:
            billing_status_apply(message_id=message.pk, status="failed", pricing=None, at=at)
        elif i % 50 == 9:
            free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}
            billing_status_apply(message_id=message.pk, status="sent", pricing=free, at=at)

    client = Client()
    client.force_login(user_create_or_update(username="lo-finance", role="finance", password="lo-finance-password"))
    body = b"".join(client.get("/billing/export.csv?month=2026-06").streaming_content)
    page_total = summary(month=parse_month("2026-06")).totals[0].total
    rows_in = list(csv.DictReader(io.StringIO(body.decode())))

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "billing-2026-06.csv"
        source.write_bytes(body)
        out = Path(tmp) / "out"
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation=file://{tmp}/profile",
                "--infilter=CSV:44,34,76,1",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1",
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        back = (out / source.name).read_text(encoding="utf-8")
        # Control: the same import evaluates an unguarded formula (so the check above means something).
        control = Path(tmp) / "control.csv"
        control.write_text("a\n=1+1\n")
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation=file://{tmp}/profile",
                "--infilter=CSV:44,34,76,1",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1",
                "--outdir",
                str(out),
                str(control),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        control_back = (out / control.name).read_text(encoding="utf-8").split()[-1]
    rows_out = list(csv.DictReader(io.StringIO(back)))
    names_back = [r["template"] for r in rows_out[: len(DANGEROUS)]]
    total_out = sum((Decimal(r["amount"]) for r in rows_out if r["state"] in ("estimated", "billable")), Decimal("0"))
    print(
        json.dumps(
            {
                "figure": "billing_csv_libreoffice",
                "rows_in_csv": len(rows_in),
                "rows_read_by_libreoffice": len(rows_out),
                "dangerous_names_stayed_text": all(n.startswith("'") for n in names_back),
                "names_back": names_back,
                "total_csv_via_libreoffice": str(total_out),
                "total_page": str(page_total),
                "totals_equal": total_out == page_total,
                "control_unguarded_formula_came_back_as": control_back,
            }
        )
    )


if __name__ == "__main__":
    main()
