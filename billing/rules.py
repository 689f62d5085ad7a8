"""Reading the dated data: which rule, card, market and rate were in force at a moment.

Every function takes the moment (`at`, an aware datetime) and answers from the tables alone, so
a change of Meta's rules or prices is a new row with a later date, never a code change.
Period boundaries are UTC calendar days.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import phonenumbers
from django.db.models import IntegerField, Subquery, Value

from billing.models import Category, MarketMapping, PricingRule, Rate, RateCard, RateTier, normalize_category

OTHER_MARKET = "Other"

_shared_answers = threading.local()


@contextmanager
def lookups_shared() -> Iterator[None]:
    """Inside the block, a dated lookup that does not depend on the recipient (the rule, the card,
    its price for a market and category, the number's budget) is read once per distinct question.

    A campaign batch asks the same questions for each of its recipients, within the same second
    and transaction; outside such a block every call reads the tables.
    """
    if getattr(_shared_answers, "answers", None) is not None:
        yield
        return
    _shared_answers.answers = {}
    try:
        yield
    finally:
        _shared_answers.answers = None


def shared(key: tuple, read: Callable):
    """`read()`, or inside `lookups_shared()` the answer the block already read for `key`."""
    answers = getattr(_shared_answers, "answers", None)
    if answers is None:
        return read()
    if key not in answers:
        answers[key] = read()
    return answers[key]


def day_of(at: datetime) -> date:
    return at.astimezone(UTC).date()


def month_of(at: datetime) -> date:
    return day_of(at).replace(day=1)


def category_for(*, kind: str, template_category: str | None) -> str:
    """The pricing category of a message: a template's own category, `service` for free-form."""
    if kind == "template":
        category = normalize_category(template_category)
        if category not in Category.values or category == Category.SERVICE:
            raise ValueError(f"unknown template category: {template_category!r}")
        return category
    return Category.SERVICE


def rule_for(*, category: str, in_window: bool, at: datetime) -> PricingRule | None:
    """The rule of the latest rule set on or before `at` for this category; a rule for the exact
    window side wins over an `any` rule. None: no rules loaded (the caller charges)."""
    return shared(("rule", category, in_window, day_of(at)), lambda: _rule_for(category, in_window, at))


def _rule_for(category: str, in_window: bool, at: datetime) -> PricingRule | None:
    # One statement: the latest rule set's date is a subquery (no rule set yet: no rows).
    latest = PricingRule.objects.filter(effective_from__lte=day_of(at)).order_by("-effective_from")
    rules = {
        r.window: r
        for r in PricingRule.objects.filter(
            effective_from=Subquery(latest.values("effective_from")[:1]), category=category
        )
    }
    side = PricingRule.Window.INSIDE if in_window else PricingRule.Window.OUTSIDE
    return rules.get(side) or rules.get(PricingRule.Window.ANY)


def service_free_tier_at(at: datetime) -> PricingRule | None:
    """The service rule with a free tier in force at `at` (None before 2026-10-01 in the default
    rules): tells how to read Meta's `free_customer_service` for a message sent then."""
    rule = rule_for(category=Category.SERVICE, in_window=True, at=at)
    return rule if rule is not None and rule.treatment == PricingRule.Treatment.FREE_TIER else None


def card_for(*, at: datetime, currency: str | None = None) -> RateCard | None:
    """The card in force on `at`'s day: the latest effective one (in `currency` if given; among
    currencies on the same day USD first, so a card in a new currency does not win by accident)."""
    return shared(("card", day_of(at), currency), lambda: _card_for(at, currency))


def _card_for(at: datetime, currency: str | None) -> RateCard | None:
    cards = RateCard.objects.filter(effective_from__lte=day_of(at))
    if currency:
        cards = cards.filter(currency=currency)
    found = list(cards.order_by("-effective_from")[:20])
    if not found:
        return None
    newest = found[0].effective_from
    same_day = [c for c in found if c.effective_from == newest]
    same_day.sort(key=lambda c: (c.currency != "USD", c.currency))
    return same_day[0]


def country_of(*, wa_id: str = "", user_id: str = "", stored: str = "") -> str:
    """The recipient's ISO country: the contact's stored market, else from the number."""
    if stored:
        return stored
    if wa_id:
        try:
            parsed = phonenumbers.parse(f"+{wa_id.lstrip('+')}")
            region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
                parsed.country_code
            )
            if region and region not in ("ZZ", "001"):
                return region
        except phonenumbers.NumberParseException:
            pass
    match = re.match(r"^([A-Z]{2})\.", user_id or "")
    return match.group(1) if match else ""


def market_for(*, country: str, wa_id: str = "", at: datetime) -> str:
    """Meta's market for a recipient: the longest calling-code prefix mapped (Meta splits +1 by
    prefix), else the ISO country, else `Other`. Each code's latest mapping on or before `at`."""
    digits = re.sub(r"\D", "", wa_id or "")
    codes = [digits[:n] for n in range(min(len(digits), 7), 0, -1)] if digits else []
    if country:
        codes.append(country.upper())
    if not codes:
        return OTHER_MARKET
    found: dict[str, str] = {}
    rows = MarketMapping.objects.filter(code__in=codes, effective_from__lte=day_of(at)).order_by("-effective_from")
    for code, market in rows.values_list("code", "market"):
        found.setdefault(code, market)
    for code in codes:
        if code in found:
            return found[code]
    return OTHER_MARKET


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    market: str
    # The market whose price was used (`Other` when the card has none for the recipient's market).
    priced_market: str
    card: RateCard | None
    # The card's volume tiers for the priced market x the category asked for, lowest first
    # (empty: the list rate only); read with the price, in the same statement.
    tiers: tuple[tuple[int, Decimal], ...] = ()


def price_for(*, card: RateCard | None, market: str, category: str) -> Price:
    """The card's price for market x category; the card's `Other` row when the market has none.

    One statement reads the prices and the volume tiers of both markets (and, for
    authentication-international, of plain authentication, its fallback).
    """
    key = ("price", card.pk if card is not None else None, market, category)
    return shared(key, lambda: _price_for(card, market, category))


def _price_for(card: RateCard | None, market: str, category: str) -> Price:
    if card is None:
        return Price(Decimal("0"), market, market, None)
    markets = [market, OTHER_MARKET]
    categories = [category]
    if category == Category.AUTHENTICATION_INTERNATIONAL:
        categories.append(Category.AUTHENTICATION)
    no_step = Value(None, output_field=IntegerField())
    rates = Rate.objects.filter(card=card, market__in=markets, category__in=categories)
    steps = RateTier.objects.filter(card=card, market__in=markets, category=category)
    # No ORDER BY in the parts (the models' default ordering): SQLite refuses one in a UNION's
    # parts, and the tiers are sorted below.
    rows = (
        rates.order_by()
        .values_list("market", "category", "unit_price", no_step)
        .union(steps.order_by().values_list("market", "category", "unit_price", "from_volume"), all=True)
    )
    prices: dict[tuple[str, str], Decimal] = {}
    tiers: dict[str, list[tuple[int, Decimal]]] = {}
    for row_market, row_category, unit_price, from_volume in rows:
        if from_volume is None:
            prices[(row_market, row_category)] = unit_price
        else:
            tiers.setdefault(row_market, []).append((from_volume, unit_price))
    price = _priced(prices, market=market, category=category, card=card)
    steps_of_market = tuple(sorted(tiers.get(price.priced_market, ())))
    return Price(price.unit_price, market, price.priced_market, card, steps_of_market)


def _priced(prices: dict[tuple[str, str], Decimal], *, market: str, category: str, card: RateCard) -> Price:
    if (market, category) in prices:
        return Price(prices[(market, category)], market, market, card)
    if (OTHER_MARKET, category) in prices:
        return Price(prices[(OTHER_MARKET, category)], market, OTHER_MARKET, card)
    # Authentication-international is n/a in most markets: the plain authentication price applies.
    if category == Category.AUTHENTICATION_INTERNATIONAL:
        return _priced(prices, market=market, category=Category.AUTHENTICATION, card=card)
    return Price(Decimal("0"), market, "", card)


def tier_price(tiers: list[tuple[int, Decimal]], *, position: int, list_price: Decimal) -> Decimal:
    """The price of the `position`-th charged message of the month (1-based)."""
    price = list_price
    for from_volume, unit_price in tiers:
        if position >= from_volume:
            price = unit_price
    return price
