"""What a message would cost, from the dated rules, cards and market map (no writes).

`assess` is shared by the quote (a read, selectors.quote) and by the record written when a
message is sent (services.billing_record_for_message), so both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from billing import rules
from billing.models import Budget, Category, PricingRule, RateCard

ZERO = Decimal("0")


@dataclass(frozen=True)
class Assessment:
    category: str
    country: str
    market: str
    in_window: bool
    rule: PricingRule | None
    treatment: str
    rate_category: str
    unit_price: Decimal
    priced_market: str
    card: RateCard | None
    currency: str
    # Read once here for the send's budget check too (the month's own, else the standing one).
    budget: Budget | None = None
    # The card's volume tiers for priced_market x rate_category, lowest first (empty: none).
    tiers: tuple[tuple[int, Decimal], ...] = ()

    @property
    def free_tier(self) -> int:
        return self.rule.free_tier_size() if self.rule is not None else 0


def budget_for(*, number, month) -> Budget | None:
    """The month's own budget, else the number's standing monthly one."""
    return rules.shared(("budget", number.pk, month), lambda: _budget_for(number, month))


def _budget_for(number, month) -> Budget | None:
    budgets = list(Budget.objects.filter(Q(month=month) | Q(month__isnull=True), number=number))
    budgets.sort(key=lambda b: b.month is None)
    return budgets[0] if budgets else None


UNREAD = object()  # assess reads the rule itself


def assess(
    *,
    number,
    contact,
    kind: str,
    template_category: str | None,
    at: datetime,
    in_window: bool,
    rule: PricingRule | None | object = UNREAD,
) -> Assessment:
    """`rule`: the rule the caller already read for this category, window side and moment."""
    category = rules.category_for(kind=kind, template_category=template_category)
    if rule is UNREAD:
        rule = rules.rule_for(category=category, in_window=in_window, at=at)
    treatment = rule.treatment if rule is not None else PricingRule.Treatment.CHARGED
    rate_category = rule.rate_category if rule is not None else category
    country = rules.country_of(wa_id=contact.wa_id, user_id=contact.user_id, stored=contact.market)
    market = rules.market_for(country=country, wa_id=contact.wa_id, at=at)
    budget = budget_for(number=number, month=rules.month_of(at))
    card = None
    if budget is not None:
        card = rules.card_for(at=at, currency=budget.currency)
    card = card or rules.card_for(at=at)
    price = rules.price_for(card=card, market=market, category=rate_category)
    return Assessment(
        category=category,
        country=country,
        market=market,
        in_window=in_window,
        rule=rule,
        treatment=treatment,
        rate_category=rate_category,
        unit_price=price.unit_price,
        priced_market=price.priced_market,
        card=card,
        currency=card.currency if card is not None else (budget.currency if budget else "USD"),
        budget=budget,
        tiers=price.tiers,
    )


def money(value: Decimal) -> str:
    """0.136500 -> "0.1365", 2 -> "2.00": no trailing zeros past the cents."""
    value = value.normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return number_format(value, use_l10n=True)


def category_label(category: str) -> str:
    return str(Category(category).label) if category in Category.values else category


def reason_free_rule(a: Assessment) -> str:
    since = a.rule.effective_from.isoformat() if a.rule else ""
    if a.in_window and a.category != Category.SERVICE:
        return _("Free: %(category)s templates inside the customer service window are free (rules from %(since)s).") % {
            "category": category_label(a.category),
            "since": since,
        }
    return _("Free: %(category)s messages are free (rules from %(since)s).") % {
        "category": category_label(a.category),
        "since": since,
    }


def reason_in_tier(a: Assessment, position: int) -> str:
    return _("Free: service message %(position)s of the %(tier)s free ones this month on this number.") % {
        "position": position,
        "tier": a.free_tier,
    }


def reason_charged(a: Assessment, *, tier_used: bool = False) -> str:
    if a.card is None:
        return _("No rate card is in force: the price is unknown and counted as 0. Load Meta's rate card.")
    if a.priced_market != a.market:
        where = _("%(market)s (the card's %(priced)s price)") % {"market": a.market, "priced": a.priced_market}
    else:
        where = a.market
    template = _(
        "Charged: %(price)s %(currency)s per delivered %(category)s message to %(where)s (rate card from %(day)s)."
    )
    text = template % {
        "price": money(a.unit_price),
        "currency": a.currency,
        "category": category_label(a.category),
        "where": where,
        "day": a.card.effective_from.isoformat(),
    }
    if tier_used:
        used_up = _("This number's %(tier)s free service messages of the month are used up.") % {"tier": a.free_tier}
        text = f"{used_up} {text}"
    elif a.rate_category != a.category:
        text += " " + _("Priced at the %(rate)s rate.") % {"rate": category_label(a.rate_category)}
    return text
