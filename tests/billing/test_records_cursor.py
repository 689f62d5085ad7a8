"""Billing records page by the shared keyset cursor (core.cursors), in the API and on the page."""

from __future__ import annotations

import pytest

from billing.models import BillingRecord
from core import cursors
from tests.billing.conftest import conversation_for, send, utc
from tests.conftest import PASSWORD

API = "/api/v1/billing/records"
AUGUST = {"month": "2026-08"}


@pytest.fixture
def records(number):
    de = conversation_for(number)
    for minute in range(7):
        send(de, now=utc(2026, 8, 3, 10, minute // 2))  # pairs share a sent_at: ties go by id
    return list(BillingRecord.objects.order_by("sent_at", "id").values_list("pk", flat=True))


def test_the_api_pages_through_every_record_once(client, finance, records):
    client.login(username=finance.username, password=PASSWORD)
    seen, cursor = [], None
    while True:
        page = client.get(API, {**AUGUST, "limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next"]) is None:
            break
    assert seen == records


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "x" * 500, cursors.encode(None, 1), cursors.encode(utc(2026, 8, 3), 1)[:-2]],
)
def test_the_api_refuses_a_tampered_cursor(client, finance, records, cursor):
    client.login(username=finance.username, password=PASSWORD)
    response = client.get(API, {**AUGUST, "cursor": cursor})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The cursor is not valid.",
        "fields": {"cursor": "invalid"},
    }


def test_the_api_limit_keeps_its_documented_bounds(client, finance, records):
    client.login(username=finance.username, password=PASSWORD)
    assert client.get(API, {**AUGUST, "limit": 0}).status_code == 422
    assert client.get(API, {**AUGUST, "limit": 501}).status_code == 422
    assert len(client.get(API, AUGUST).json()["items"]) == 7  # the default, 100


def test_the_page_answers_a_tampered_cursor_with_404(client, finance, records):
    client.login(username=finance.username, password=PASSWORD)
    assert client.get("/billing/records/?month=2026-08&cursor=garbage").status_code == 404
    first = client.get("/billing/records/?month=2026-08")
    assert first.status_code == 200 and not first.context["next_href"]
