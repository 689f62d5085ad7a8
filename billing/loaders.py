"""Loading Meta's files as downloaded: the rates CSV and the country-to-market map.

A file is checked whole before anything is written, and written in one transaction: a bad
file is refused with the line and column at fault, and nothing is half-loaded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.exceptions import LoadError
from billing.models import MarketMapping, Rate, RateCard

# Header name (lowercase, `_` read as `-`) -> our category; "Meta Business Agent" is ignored.
PRICE_COLUMNS = {
    "marketing": "marketing",
    "utility": "utility",
    "authentication": "authentication",
    "authentication-international": "authentication_international",
    "service": "service",
}
REQUIRED = ("market", "currency", *PRICE_COLUMNS)
NOT_AVAILABLE = {"", "n/a", "na", "-", "–"}


def _rows(file) -> list[list[str]]:
    """Rows of a path, bytes, text or a (binary or text) file object; BOM tolerated."""
    if isinstance(file, str | Path):
        raw: bytes | str = Path(file).read_bytes()
    elif isinstance(file, bytes | str):
        raw = file
    else:
        raw = file.read()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoadError(_("The file is not UTF-8 text.")) from exc
    raw = raw.lstrip("\ufeff")
    try:
        return list(csv.reader(io.StringIO(raw, newline="")))
    except csv.Error as exc:
        raise LoadError(_("The file is not a CSV file: %(error)s") % {"error": exc}) from exc


def _header_name(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.strip().lower().replace("_", "-"))


def parse_price(cell: str, *, line: int, column: int) -> Decimal | None:
    """`$0.0550`, `0.0550 USD`, `€0,1131`, `₹0.8631` -> Decimal; `n/a` or empty -> None."""
    text = cell.strip()
    if text.lower() in NOT_AVAILABLE:
        return None
    cleaned = re.sub(r"[^\d.,\-]", "", text)
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise LoadError(_("%(cell)r is not a price.") % {"cell": cell}, line=line, column=column)
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules this out
        raise LoadError(_("%(cell)r is not a price.") % {"cell": cell}, line=line, column=column) from exc


@dataclass
class ParsedCard:
    title: str
    currency: str
    rates: list[tuple[str, str, Decimal]]  # market, category, unit price


def parse_rate_card(file) -> ParsedCard:
    rows = _rows(file)
    header_at = next(
        (i for i, row in enumerate(rows[:10]) if row and _header_name(row[0]) == "market"),
        None,
    )
    if header_at is None:
        raise LoadError(_("No header row starting with 'Market' in the first 10 lines."), line=1, column=1)
    title = next((cell.strip() for row in rows[:header_at] for cell in row if cell.strip()), "")
    header = [_header_name(c) for c in rows[header_at]]
    columns: dict[str, int] = {}
    for name in REQUIRED:
        if name not in header:
            raise LoadError(_("Column %(name)r is missing.") % {"name": name.title()}, line=header_at + 1)
        columns[name] = header.index(name)

    currency = ""
    seen: set[str] = set()
    rates: list[tuple[str, str, Decimal]] = []
    for index, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = row + [""] * (len(header) - len(row))
        if not any(c.strip() for c in cells):
            continue
        market = cells[columns["market"]].strip()
        row_currency = cells[columns["currency"]].strip().upper()
        prices = [cells[columns[name]].strip() for name in PRICE_COLUMNS]
        # A footnote line under the table (text in the first cell only) is not a market.
        if not row_currency and not any(prices):
            continue
        if not market:
            raise LoadError(_("The market is empty."), line=index, column=columns["market"] + 1)
        if market in seen:
            raise LoadError(_("Market %(market)r appears twice.") % {"market": market}, line=index, column=1)
        seen.add(market)
        if not re.fullmatch(r"[A-Z]{3}", row_currency):
            raise LoadError(
                _("%(cell)r is not a currency code.") % {"cell": row_currency},
                line=index,
                column=columns["currency"] + 1,
            )
        if currency and row_currency != currency:
            raise LoadError(
                _("Currency %(found)s differs from %(first)s: one card holds one currency.")
                % {"found": row_currency, "first": currency},
                line=index,
                column=columns["currency"] + 1,
            )
        currency = row_currency
        for name, category in PRICE_COLUMNS.items():
            price = parse_price(cells[columns[name]], line=index, column=columns[name] + 1)
            if price is not None:
                rates.append((market, category, price))
    if not rates:
        raise LoadError(_("The file has no prices."), line=header_at + 2)
    return ParsedCard(title=title, currency=currency, rates=rates)


def rate_card_load(*, file, effective: date, source: str = "") -> RateCard:
    """Load Meta's rates CSV as a new card in force from `effective`; refuses a file whole."""
    parsed = parse_rate_card(file)
    with transaction.atomic():
        if RateCard.objects.filter(currency=parsed.currency, effective_from=effective).exists():
            raise LoadError(
                _(
                    "A %(currency)s card from %(day)s is already loaded. Cards never change in place: "
                    "load the new one with its own effective date."
                )
                % {"currency": parsed.currency, "day": effective.isoformat()}
            )
        card = RateCard.objects.create(
            currency=parsed.currency, effective_from=effective, title=parsed.title[:255], source=source[:255]
        )
        Rate.objects.bulk_create(
            [Rate(card=card, market=m, category=c, unit_price=p) for m, c, p in parsed.rates], batch_size=1000
        )
    return card


# --- the country-to-market map ----------------------------------------------------------------

MARKET_HEADERS = {"market", "pricing market", "rate mapping", "regional rate mapping", "region", "rate region"}
CODE_HEADERS = {
    "iso",
    "iso code",
    "iso 3166",
    "country iso",
    "country iso code",
    "alpha-2",
    "country code",
    "calling code",
    "country calling code",
    "dialing code",
    "calling code prefix",
    "prefix",
}


def _code(cell: str, *, line: int, column: int) -> str:
    text = cell.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    digits = re.sub(r"[\s+\-()]", "", text)
    if re.fullmatch(r"\d{1,7}", digits):
        return digits
    raise LoadError(
        _("%(cell)r is neither an ISO country code nor a calling code.") % {"cell": cell}, line=line, column=column
    )


def parse_market_map(file) -> list[tuple[str, str]]:
    rows = _rows(file)
    header_at = 0
    for header_at, row in enumerate(rows[:10]):  # noqa: B007 - used after the loop
        names = [_header_name(c) for c in row]
        market_cols = [i for i, n in enumerate(names) if n in MARKET_HEADERS]
        code_cols = [i for i, n in enumerate(names) if n in CODE_HEADERS]
        if market_cols and code_cols:
            break
    else:
        raise LoadError(
            _("No header row with a market column and a country or calling code column in the first 10 lines."),
            line=1,
            column=1,
        )
    market_col = market_cols[0]
    pairs: dict[str, str] = {}
    for index, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = row + [""] * (len(names) - len(row))
        if not any(c.strip() for c in cells):
            continue
        market = cells[market_col].strip()
        if not market:
            raise LoadError(_("The market is empty."), line=index, column=market_col + 1)
        codes = [
            _code(part, line=index, column=col + 1)
            for col in code_cols
            for part in re.split(r"[,;/]", cells[col])
            if part.strip()
        ]
        if not codes:
            raise LoadError(_("No country or calling code."), line=index, column=code_cols[0] + 1)
        for code in codes:
            if pairs.get(code, market) != market:
                raise LoadError(
                    _("%(code)s is mapped to two markets.") % {"code": code}, line=index, column=code_cols[0] + 1
                )
            pairs[code] = market
    if not pairs:
        raise LoadError(_("The file has no mappings."), line=header_at + 2)
    return sorted(pairs.items())


def market_map_load(*, file, effective: date | None = None) -> int:
    """Load Meta's "Country Calling Codes and Regional Rate Mapping" CSV, in force from `effective`
    (default today). Returns how many codes were mapped; refuses a file whole."""
    pairs = parse_market_map(file)
    effective = effective or timezone.now().date()
    with transaction.atomic():
        # Reloading the same day replaces that day's rows; earlier days stay as history.
        MarketMapping.objects.filter(effective_from=effective, code__in=[c for c, _m in pairs]).delete()
        MarketMapping.objects.bulk_create(
            [MarketMapping(code=c, market=m, effective_from=effective) for c, m in pairs], batch_size=1000
        )
    return len(pairs)
