"""Budgets and rate-card uploads in /admin/, by the admin role (not a superuser)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import Budget, MarketMapping, RateCard

DATA = Path(__file__).resolve().parents[2] / "billing" / "data"


def test_a_rate_card_uploads_from_the_admin_and_a_bad_one_is_refused_with_line_and_column(admin_client):
    page = admin_client.get("/admin/billing/ratecard/")
    assert "Upload Meta" in page.content.decode()
    content = (DATA / "sample_rate_card_usd_2026-10-01.csv").read_bytes()
    response = admin_client.post(
        "/admin/billing/ratecard/upload/",
        {"kind": "rate_card", "effective": "2026-10-01", "file": SimpleUploadedFile("usd.csv", content)},
    )
    assert response.status_code == 302
    assert RateCard.objects.filter(effective_from=date(2026, 10, 1), currency="USD").exists()

    bad = content.replace(b"$0.0529", b"lots")
    response = admin_client.post(
        "/admin/billing/ratecard/upload/",
        {"kind": "rate_card", "effective": "2027-01-01", "file": SimpleUploadedFile("bad.csv", bad)},
    )
    assert response.status_code == 200
    assert "line 4, column 3" in response.content.decode()
    assert not RateCard.objects.filter(effective_from=date(2027, 1, 1)).exists()


def test_a_market_map_uploads_from_the_admin(admin_client):
    content = (DATA / "sample_market_map.csv").read_bytes()
    response = admin_client.post(
        "/admin/billing/ratecard/upload/",
        {"kind": "market_map", "effective": "2026-10-01", "file": SimpleUploadedFile("map.csv", content)},
    )
    assert response.status_code == 302
    assert MarketMapping.objects.filter(code="1787", effective_from=date(2026, 10, 1)).exists()


def test_budgets_are_edited_in_the_admin(admin_client, number):
    response = admin_client.post(
        "/admin/billing/budget/add/",
        {
            "number": number.pk,
            "month": "2026-11-01",
            "amount": "250.00",
            "currency": "EUR",
            "warning_share": "0.8",
            "hard_stop": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    budget = Budget.objects.get()
    assert (budget.amount, budget.currency, budget.hard_stop) == (Decimal("250.00"), "EUR", True)


def test_priced_data_is_read_only_in_the_admin(admin_client):
    card = RateCard.objects.first()
    page = admin_client.get(f"/admin/billing/ratecard/{card.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "Rest of Western Europe" in page.content.decode()  # the card's prices, read-only
    assert admin_client.get("/admin/billing/billingrecord/add/").status_code == 403
