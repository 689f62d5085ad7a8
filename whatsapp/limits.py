"""Meta's messaging-limit tiers: how many customers a business may start talks with in 24 hours.

Meta reports a number's tier by name (`messaging_limit_tier` when asked, `current_limit` or
`max_daily_conversations_per_business` in a phone_number_quality_update webhook).
"""

from __future__ import annotations

TIER_SIZES = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": 0,
}


def tier_size(tier: str | None) -> int | None:
    """Customers per 24 hours in `tier` (0: unlimited); None for a tier Meta has not set or we do not know."""
    return TIER_SIZES.get(str(tier or "").upper())
