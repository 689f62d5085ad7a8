"""Loading Meta's files: accepted as downloaded, refused whole with the line and column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billing.exceptions import LoadError
from billing.loaders import market_map_load, rate_card_load
from billing.models import MarketMapping, Rate, RateCard
from billing.rules import market_for
from tests.billing.conftest import utc

DATA = Path(__file__).resolve().parents[2] / "billing" / "data"
HEADER = "Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service,Meta Business Agent\n"
TITLE = '"Cost per message in EUR on the WhatsApp Business Platform, effective October 1, 2026",,,,,,,\n'


def test_the_sample_card_loads_as_downloaded_with_symbols_na_and_the_agent_column(db):
    out = StringIO()
    call_command(
        "load_rate_card", str(DATA / "sample_rate_card_usd_2026-10-01.csv"), "--effective", "2026-10-01", stdout=out
    )
    card = RateCard.objects.get(effective_from=date(2026, 10, 1))
    assert card.currency == "USD" and "effective October 1, 2026" in card.title
    assert not card.is_default_starting_point
    germany = dict(Rate.objects.filter(card=card, market="Germany").values_list("category", "unit_price"))
    assert germany == {
        "marketing": Decimal("0.1365"),
        "utility": Decimal("0.0550"),
        "authentication": Decimal("0.0550"),
        "service": Decimal("0.0550"),
    }
    assert Rate.objects.get(card=card, market="India", category="authentication_international").unit_price == Decimal(
        "0.0280"
    )
    assert "in force from 2026-10-01" in out.getvalue()


def test_euro_prices_with_symbols_and_decimal_commas(db):
    body = TITLE + HEADER + 'Germany,EUR,"€0,1131",€0.0456,0.0456 EUR,n/a,€0.0456,"$2.00 USD / 1 M (million) tokens"\n'
    card = rate_card_load(file=body.encode(), effective=date(2026, 10, 1))
    assert card.currency == "EUR"
    assert Rate.objects.get(card=card, category="marketing").unit_price == Decimal("0.1131")


@pytest.mark.parametrize(
    ("body", "line", "column", "words"),
    [
        (TITLE + HEADER + "Germany,EUR,abc,0.04,0.04,n/a,0.04,\n", 3, 3, "not a price"),
        (TITLE + HEADER + "Germany,EUR,0.1,0.04,0.04,n/a,0.04,\nFrance,USD,0.1,0.04,0.04,n/a,0.04,\n", 4, 2, "differs"),
        (TITLE + HEADER + "Germany,EURO,0.1,0.04,0.04,n/a,0.04,\n", 3, 2, "currency"),
        (TITLE + "Market,Currency,Marketing,Utility,Authentication,Service\nGermany,EUR,1,1,1,1\n", 2, 0, "missing"),
        (TITLE + HEADER + "Germany,EUR,0.1,0.04,0.04,n/a,0.04,\nGermany,EUR,0.1,0.04,0.04,n/a,0.04,\n", 4, 1, "twice"),
        ("just some text\n", 1, 1, "header"),
    ],
)
def test_a_malformed_card_is_refused_whole_with_line_and_column(db, body, line, column, words):
    before = Rate.objects.count()
    with pytest.raises(LoadError) as caught:
        rate_card_load(file=body.encode(), effective=date(2026, 10, 1))
    assert (caught.value.line, caught.value.column) == (line, column)
    assert words in str(caught.value)
    assert Rate.objects.count() == before
    assert not RateCard.objects.filter(effective_from=date(2026, 10, 1)).exists()


def test_the_command_says_where_a_file_is_wrong(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(TITLE + HEADER + "Germany,EUR,0.1,0.04,zero,n/a,0.04,\n")
    with pytest.raises(CommandError, match="line 3, column 5"):
        call_command("load_rate_card", str(bad), "--effective", "2026-10-01")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("load_rate_card", str(bad), "--effective", "October")


def test_a_card_never_changes_in_place(db):
    body = (TITLE + HEADER + "Germany,EUR,0.1,0.04,0.04,n/a,0.04,\n").encode()
    rate_card_load(file=body, effective=date(2026, 10, 1))
    with pytest.raises(LoadError, match="already loaded"):
        rate_card_load(file=body, effective=date(2026, 10, 1))


def test_the_market_map_loads_iso_codes_and_calling_code_prefixes(db):
    call_command("load_market_map", str(DATA / "sample_market_map.csv"), "--effective", "2026-10-01", stdout=StringIO())
    assert MarketMapping.objects.get(code="1787").market == "Rest of Latin America"
    at = utc(2026, 10, 2)
    assert market_for(country="PR", wa_id="17875551234", at=at) == "Rest of Latin America"
    assert market_for(country="US", wa_id="12025550123", at=at) == "North America"
    assert market_for(country="DE", wa_id="4915112345678", at=at) == "Germany"
    # Before the new map's date the shipped one applies (PR under its ISO code).
    assert market_for(country="PR", wa_id="17875551234", at=utc(2026, 9, 1)) == "Rest of Latin America"


def test_a_malformed_market_map_is_refused_whole(db):
    before = MarketMapping.objects.count()
    body = "Country,ISO Code,Market\nGermany,DE,Germany\nNowhere,XYZ,Other\n"
    with pytest.raises(LoadError) as caught:
        market_map_load(file=body.encode(), effective=date(2026, 10, 1))
    assert (caught.value.line, caught.value.column) == (3, 2)
    assert MarketMapping.objects.count() == before
