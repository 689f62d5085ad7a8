"""The data billing starts with: Meta's pricing rules by period, a starting-point rate card and a
country-to-market map. A data migration installs them; admins replace the card and the map with
Meta's current files (`load_rate_card`, `load_market_map`), and add rule rows for Meta's next change.

The card's figures are the examples of our research notes (Meta's USD card as transcribed, and
third-party tables where Meta's was not at hand). They are a starting point, not Meta's card.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

DEFAULT_CARD_TITLE = "Starting point - replace with Meta's current rate card (figures from public notes, 2025/2026)"
DEFAULT_CARD_SOURCE = "shipped with the inbox"
DEFAULT_CARD_FROM = date(2025, 7, 1)
DEFAULT_CARD_CURRENCY = "USD"

# market: (marketing, utility, authentication, authentication_international, service); None = n/a.
# Service equals utility, as in Meta's October 2026 cards.
DEFAULT_RATES: dict[str, tuple[str | None, ...]] = {
    "Germany": ("0.1365", "0.0550", "0.0550", None, "0.0550"),
    "United Kingdom": ("0.0529", "0.0220", "0.0358", None, "0.0220"),
    "France": ("0.0859", "0.0300", "0.0300", None, "0.0300"),
    "Spain": ("0.0615", "0.0200", "0.0200", None, "0.0200"),
    "Italy": ("0.0691", "0.0300", "0.0300", None, "0.0300"),
    "Netherlands": ("0.1597", "0.0500", "0.0500", None, "0.0500"),
    "India": ("0.0118", "0.0014", "0.0014", "0.0280", "0.0014"),
    "Brazil": ("0.0625", "0.0068", "0.0068", None, "0.0068"),
    "Mexico": ("0.0305", "0.0085", "0.0085", None, "0.0085"),
    "North America": ("0.0250", "0.0034", "0.0034", None, "0.0034"),
    "Rest of Western Europe": ("0.0592", "0.0296", "0.0296", None, "0.0296"),
    "Rest of Central & Eastern Europe": ("0.0860", "0.0212", "0.0212", None, "0.0212"),
    "Rest of Asia Pacific": ("0.0732", "0.0113", "0.0113", None, "0.0113"),
    "Rest of Latin America": ("0.0740", "0.0113", "0.0113", None, "0.0113"),
    "Rest of Africa": ("0.0225", "0.0040", "0.0040", None, "0.0040"),
    "Rest of Middle East": ("0.0341", "0.0091", "0.0091", None, "0.0091"),
    "Other": ("0.0604", "0.0077", "0.0077", None, "0.0077"),
}
CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service")

DEFAULT_MAP_FROM = date(2025, 7, 1)
DEFAULT_MARKETS: dict[str, list[str]] = {
    "Germany": ["DE"],
    "United Kingdom": ["GB"],
    "France": ["FR"],
    "Spain": ["ES"],
    "Italy": ["IT"],
    "Netherlands": ["NL"],
    "India": ["IN"],
    "Brazil": ["BR"],
    "Mexico": ["MX"],
    "North America": ["US", "CA"],
    "Rest of Western Europe": ["AT", "BE", "CH", "DK", "FI", "GR", "IE", "IS", "LU", "NO", "PT", "SE"],
    "Rest of Central & Eastern Europe": ["BG", "CZ", "EE", "HR", "HU", "LT", "LV", "PL", "RO", "RS", "SI", "SK", "UA"],
    "Rest of Asia Pacific": ["AU", "HK", "JP", "KR", "NZ", "PH", "SG", "TH", "TW", "VN"],
    "Rest of Latin America": ["BO", "CR", "DO", "EC", "GT", "PA", "PR", "PY", "UY", "VE"],
    "Rest of Africa": ["GH", "KE", "TZ", "UG", "ET", "CM", "SN"],
    "Rest of Middle East": ["BH", "JO", "LB", "YE", "KW", "OM", "QA", "IQ"],
}

# (effective_from, category, window, treatment, rate_category, note)
DEFAULT_RULES: list[tuple[date, str, str, str, str, str]] = [
    (date(2025, 7, 1), "marketing", "any", "charged", "marketing", "Per-message pricing: marketing always charged"),
    (date(2025, 7, 1), "utility", "inside", "free", "utility", "Utility templates inside the window are free"),
    (date(2025, 7, 1), "utility", "outside", "charged", "utility", "Utility templates outside the window"),
    (date(2025, 7, 1), "authentication", "any", "charged", "authentication", "Authentication always charged"),
    (
        date(2025, 7, 1),
        "authentication_international",
        "any",
        "charged",
        "authentication_international",
        "Authentication-international rate",
    ),
    (date(2025, 7, 1), "service", "any", "free", "service", "Service (free-form) messages are free"),
    (date(2026, 10, 1), "marketing", "any", "charged", "marketing", "Marketing always charged"),
    (
        date(2026, 10, 1),
        "utility",
        "inside",
        "charged",
        "service",
        "Utility templates inside the window: charged at the service rate",
    ),
    (date(2026, 10, 1), "utility", "outside", "charged", "utility", "Utility templates outside the window"),
    (date(2026, 10, 1), "authentication", "any", "charged", "authentication", "Authentication always charged"),
    (
        date(2026, 10, 1),
        "authentication_international",
        "any",
        "charged",
        "authentication_international",
        "Authentication-international rate",
    ),
    (
        date(2026, 10, 1),
        "service",
        "any",
        "free_tier",
        "service",
        "Service messages: free tier per number and month, then the service rate",
    ),
]


def install_defaults(apps) -> None:
    """Idempotent; used by the data migration (historical models) and by tests."""
    RateCard = apps.get_model("billing", "RateCard")
    Rate = apps.get_model("billing", "Rate")
    MarketMapping = apps.get_model("billing", "MarketMapping")
    PricingRule = apps.get_model("billing", "PricingRule")

    card, created = RateCard.objects.get_or_create(
        currency=DEFAULT_CARD_CURRENCY,
        effective_from=DEFAULT_CARD_FROM,
        defaults={"title": DEFAULT_CARD_TITLE, "source": DEFAULT_CARD_SOURCE, "is_default_starting_point": True},
    )
    if created:
        Rate.objects.bulk_create(
            [
                Rate(card=card, market=market, category=category, unit_price=Decimal(price))
                for market, prices in DEFAULT_RATES.items()
                for category, price in zip(CATEGORIES, prices, strict=True)
                if price is not None
            ]
        )
    MarketMapping.objects.bulk_create(
        [
            MarketMapping(code=code, market=market, effective_from=DEFAULT_MAP_FROM)
            for market, codes in DEFAULT_MARKETS.items()
            for code in codes
        ],
        ignore_conflicts=True,
    )
    PricingRule.objects.bulk_create(
        [
            PricingRule(
                effective_from=day, category=category, window=window, treatment=treatment, rate_category=rate, note=note
            )
            for day, category, window, treatment, rate, note in DEFAULT_RULES
        ],
        ignore_conflicts=True,
    )
