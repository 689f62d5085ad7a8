"""The finance page, the drill-down, the CSV export and the JSON API."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.export import COLUMNS
from billing.models import BillingRecord
from billing.selectors import parse_month, summary
from billing.services import billing_status_apply
from tests.billing.conftest import conversation_for, in_window_of, send, utc
from tests.conftest import PASSWORD

PAGES = ["/billing/?month=2026-08", "/billing/records/?month=2026-08", "/billing/export.csv?month=2026-08"]
ENDPOINTS = [
    ("get", "/api/v1/billing/summary?month=2026-08"),
    ("get", "/api/v1/billing/records?month=2026-08"),
    ("post", "/api/v1/billing/quote"),
]


@pytest.fixture
def august(number, other_number, admin_user):
    """A month with marketing, utility, a free in-window utility, a flagged and a void record."""
    de = conversation_for(number)
    uk = conversation_for(other_number, wa_id="447700900123", market="GB")
    send(de, now=utc(2026, 8, 3, 10), sender=admin_user)
    send(de, now=utc(2026, 8, 3, 11), name='=HYPERLINK("http://x")')
    send(uk, now=utc(2026, 8, 4, 9), category="UTILITY", name="order_update")
    failed, _r = send(uk, now=utc(2026, 8, 5, 9), category="UTILITY", name="order_update")
    billing_status_apply(message_id=failed.pk, status="failed", pricing=None, at=utc(2026, 8, 5, 9, 1))
    flagged, _r = send(de, now=utc(2026, 8, 6, 9), category="UTILITY", name="order_update")
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}
    billing_status_apply(message_id=flagged.pk, status="sent", pricing=free, at=utc(2026, 8, 6, 9, 1))
    # July, for month over month.
    send(de, now=utc(2026, 7, 20, 9))
    return {"de": de, "uk": uk}


def test_the_summary_groups_by_currency_and_counts_estimated_and_billable_only(august):
    result = summary(month=parse_month("2026-08"))
    (usd,) = result.totals
    assert usd.currency == "USD"
    assert usd.count == 5
    assert usd.total == Decimal("0.1365") * 2 + Decimal("0.0220")
    assert usd.by_state["void"].count == 1 and usd.by_state["void"].total == 0
    assert usd.by_state["free"].count == 1
    assert usd.by_category["marketing"].total == Decimal("0.2730")
    assert usd.by_market["United Kingdom"].total == Decimal("0.0220")
    assert usd.by_sender["ada"].count == 1
    assert usd.by_day["2026-08-03"].count == 2
    assert usd.previous_total == Decimal("0.1365")
    assert [r.state for r in result.flagged] == ["free"]


def test_the_summary_takes_a_constant_number_of_queries(august, number):
    with CaptureQueriesContext(connection) as small:
        summary(month=parse_month("2026-08"))
    de = august["de"]
    for day in range(10, 20):
        send(de, now=utc(2026, 8, day, 9), name=f"t{day}")
    with CaptureQueriesContext(connection) as large:
        summary(month=parse_month("2026-08"))
    assert len(small) == len(large) <= 5


def test_finance_sees_the_page_with_totals_breakdowns_chart_and_flags(client, finance, august):
    client.login(username=finance.username, password=PASSWORD)
    page = client.get("/billing/?month=2026-08")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-total="USD">0.295 USD' in html
    assert "<svg" in html and 'class="bar"' in html
    assert "order_update" in html and "United Kingdom" in html
    assert "free_customer_service" in html
    assert "records/?month=2026-08&amp;currency=USD&amp;category=marketing" in html
    drill = client.get("/billing/records/?month=2026-08&currency=USD&category=marketing")
    assert drill.status_code == 200
    assert drill.content.decode().count("0.1365 USD") == 2


def test_the_chart_keeps_its_coordinates_unlocalised_in_german(client, finance, august):
    # A German decimal comma in an SVG attribute ("12,5") is invalid: the bars and day numbers fell apart.
    import re

    client.login(username=finance.username, password=PASSWORD)
    html = client.get("/billing/?month=2026-08", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Kosten" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    numbers = re.findall(r'\b(?:x|y|width|height)="([^"]*)"', svg)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d+)?", n) for n in numbers), numbers


def test_the_drill_down_pages_by_keyset(client, finance, number):
    de = conversation_for(number)
    for minute in range(55):
        send(de, now=utc(2026, 8, 3, 10, minute))
    client.login(username=finance.username, password=PASSWORD)
    first = client.get("/billing/records/?month=2026-08")
    assert first.context["next_href"]
    assert len(first.context["items"]) == 50
    second = client.get("/billing/records/" + first.context["next_href"])
    assert len(second.context["items"]) == 5
    assert not second.context["next_href"]


def test_the_csv_has_one_row_per_record_safe_cells_and_the_pages_totals(client, finance, august):
    client.login(username=finance.username, password=PASSWORD)
    response = client.get("/billing/export.csv?month=2026-08")
    assert response.status_code == 200
    assert response.streaming
    assert "billing-2026-08.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == COLUMNS
    assert len(rows) == BillingRecord.objects.filter(sent_at__month=8).count() == 5
    injected = [r for r in rows if "HYPERLINK" in r["template"]]
    assert injected[0]["template"].startswith("'=")
    counted = sum(Decimal(r["amount"]) for r in rows if r["state"] in ("estimated", "billable"))
    assert counted == summary(month=parse_month("2026-08")).totals[0].total


def test_the_api_gives_the_summary_records_and_a_quote(client, admin_user, august, number):
    client.login(username=admin_user.username, password=PASSWORD)
    body = client.get("/api/v1/billing/summary?month=2026-08").json()
    assert body["month"] == "2026-08"
    (usd,) = body["totals"]
    assert (usd["currency"], usd["total"], usd["count"]) == ("USD", "0.295000", 5)
    assert usd["by_category"]["marketing"] == {"count": 2, "total": "0.273000"}
    assert usd["by_number"][number.phone_number_id]["count"] == 3
    one_number = client.get(f"/api/v1/billing/summary?month=2026-08&number={number.phone_number_id}").json()
    assert one_number["totals"][0]["count"] == 3

    page = client.get("/api/v1/billing/records?month=2026-08&limit=2").json()
    assert len(page["items"]) == 2 and page["next"]
    item = page["items"][0]
    assert {
        "id",
        "message_id",
        "category",
        "market",
        "amount",
        "currency",
        "state",
        "unit_price",
        "rate_card",
        "sent_at",
        "number",
        "template",
        "meta_pricing",
        "flag",
    } <= item.keys()
    assert item["amount"] == "0.136500" and item["number"] == number.phone_number_id
    rest = client.get(f"/api/v1/billing/records?month=2026-08&limit=10&cursor={page['next']}").json()
    assert len(rest["items"]) == 3 and rest["next"] is None

    q = client.post(
        "/api/v1/billing/quote",
        {"conversation_id": august["de"].pk, "template": "unknown_tpl", "category": "MARKETING"},
        content_type="application/json",
    ).json()
    assert q["category"] == "marketing" and q["market"] == "Germany" and q["free"] is False
    assert q["amount"] == "0.136500" and q["currency"] == "USD" and q["reason"]
    q = client.post(
        "/api/v1/billing/quote", {"to": "+55 11 91234 5678", "category": "UTILITY"}, content_type="application/json"
    ).json()
    assert (q["market"], q["amount"]) == ("Brazil", "0.006800")


def test_the_quote_uses_the_templates_category(client, admin_user, number):
    from templates_app.models import Template

    fields = {f.name for f in Template._meta.fields}
    values = {"waba_id": number.waba_id, "name": "order_update", "language": "de", "category": "UTILITY"}
    Template.objects.create(**{k: v for k, v in values.items() if k in fields})
    conversation = conversation_for(number)
    client.login(username=admin_user.username, password=PASSWORD)
    q = client.post(
        "/api/v1/billing/quote",
        {"conversation_id": conversation.pk, "template": "order_update", "language": "de"},
        content_type="application/json",
    ).json()
    assert q["category"] == "utility"
    missing = client.post(
        "/api/v1/billing/quote",
        {"conversation_id": conversation.pk, "template": "nope"},
        content_type="application/json",
    )
    assert missing.status_code == 422


@pytest.mark.parametrize("month", ["2026-13", "08-2026", "", "2026-8"])
def test_a_bad_month_is_a_validation_error(client, finance, month):
    client.login(username=finance.username, password=PASSWORD)
    response = client.get(f"/api/v1/billing/summary?month={month}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_agents_get_403_on_every_billing_page_and_endpoint(client, agent, august):
    client.login(username=agent.username, password=PASSWORD)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    for method, url in ENDPOINTS:
        response = (
            getattr(client, method)(url, {}, content_type="application/json") if method == "post" else client.get(url)
        )
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "forbidden"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/billing/").status_code == 302
    assert client.get("/api/v1/billing/summary?month=2026-08").status_code == 401


def test_a_service_message_in_tier_era_shows_up_at_zero(client, finance, number):
    conversation = conversation_for(number, last_inbound_at=in_window_of(utc(2026, 10, 5, 10)))
    send(conversation, now=utc(2026, 10, 5, 10), type="text")
    client.login(username=finance.username, password=PASSWORD)
    body = client.get("/api/v1/billing/summary?month=2026-10").json()
    assert body["totals"][0]["by_category"]["service"] == {"count": 1, "total": "0.000000"}


def test_the_copy_and_the_python_paths_write_the_same_csv(august):
    from billing.export import _stream_copy, _stream_python

    month = parse_month("2026-08")
    copied = "".join(_stream_copy(month=month))
    assert copied == "".join(_stream_python(month=month))
    assert copied.count("\n") == 6
    assert ",'=HYPERLINK(" in copied or ",\"'=HYPERLINK(" in copied


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_an_async_body(async_client, finance, august):
    await async_client.aforce_login(finance)
    response = await async_client.get("/billing/export.csv?month=2026-08")
    assert response.status_code == 200
    assert response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert body.count(b"\n") == 6
