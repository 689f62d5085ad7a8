"""Rate cards, markets and pricing rules as dated data; one billing record per chargeable message.

Nothing here is edited in place once it has been used for a price:
- a rate card is superseded by a later card (its `effective_from`), never changed;
- a pricing rule set is superseded by rules with a later `effective_from`;
- a billing record of a closed month is corrected by a new adjusting record (`kind=adjustment`).
Period boundaries (rule dates, card dates, months) are UTC calendar dates.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 6}


class Category(models.TextChoices):
    """Meta's pricing categories, spelled as in its `pricing.category` (underscore form)."""

    MARKETING = "marketing", _("Marketing")
    UTILITY = "utility", _("Utility")
    AUTHENTICATION = "authentication", _("Authentication")
    AUTHENTICATION_INTERNATIONAL = "authentication_international", _("Authentication (international)")
    SERVICE = "service", _("Service")


def normalize_category(value: str | None) -> str:
    """`AUTHENTICATION-INTERNATIONAL`, `authentication-international` -> `authentication_international`."""
    return (value or "").strip().lower().replace("-", "_")


class RateCard(models.Model):
    """Meta's price list in one currency, in force from `effective_from` until a later card."""

    currency = models.CharField(_("currency"), max_length=3)
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=255, blank=True, default="")
    source = models.CharField(_("source"), max_length=255, blank=True, default="")
    # The card shipped with the code (cloud-api figures): replace it with Meta's current card.
    is_default_starting_point = models.BooleanField(_("default starting point"), default=False)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "effective_from"], name="billing_ratecard_one_per_day"),
        ]

    def __str__(self) -> str:
        marker = " (starting point)" if self.is_default_starting_point else ""
        return f"{self.currency} from {self.effective_from}{marker}"


class Rate(models.Model):
    """One price of a card: market x category. A price Meta marks `n/a` has no row."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rates")
    market = models.CharField(_("market"), max_length=64)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["card", "market", "category"], name="billing_rate_one_per_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category} {self.unit_price}"


class RateTier(models.Model):
    """A volume tier of a card (utility and authentication, where Meta publishes them): from the
    `from_volume`-th charged message of a calendar month in this market and category, the price
    is `unit_price`. Below the first tier the card's list rate applies."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="tiers")
    market = models.CharField(_("market"), max_length=64)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    from_volume = models.PositiveBigIntegerField(_("from message no."))
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        ordering = ["card", "market", "category", "from_volume"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "market", "category", "from_volume"], name="billing_ratetier_one_per_step"
            ),
            models.CheckConstraint(condition=Q(from_volume__gte=2), name="billing_ratetier_after_the_list_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category} from #{self.from_volume}: {self.unit_price}"


class MarketMapping(models.Model):
    """A country (ISO code, `DE`) or a calling-code prefix (`1787`) -> Meta's market (`Germany`)."""

    code = models.CharField(_("country or calling code"), max_length=8)
    market = models.CharField(_("market"), max_length=64)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="billing_marketmapping_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.code} -> {self.market} from {self.effective_from}"


class PricingRule(models.Model):
    """What Meta charges for a category, from a date on: all rules sharing the latest
    `effective_from` on or before a day form the rule set of that day."""

    class Window(models.TextChoices):
        ANY = "any", _("inside or outside the window")
        INSIDE = "inside", _("inside the customer service window")
        OUTSIDE = "outside", _("outside the customer service window")

    class Treatment(models.TextChoices):
        FREE = "free", _("free")
        CHARGED = "charged", _("charged")
        FREE_TIER = "free_tier", _("free within a monthly tier per number, then charged")

    effective_from = models.DateField(_("effective from"))
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    window = models.CharField(_("window"), max_length=8, choices=Window.choices, default=Window.ANY)
    treatment = models.CharField(_("treatment"), max_length=10, choices=Treatment.choices)
    # The rate card column used for the price (in-window utility from 2026-10-01 uses `service`).
    rate_category = models.CharField(_("priced as"), max_length=32, choices=Category.choices)
    # Size of the free tier; empty = settings.BILLING_SERVICE_FREE_TIER.
    free_tier = models.PositiveIntegerField(_("free tier"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-effective_from", "category", "window"]
        constraints = [
            models.UniqueConstraint(
                fields=["effective_from", "category", "window"], name="billing_pricingrule_one_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.effective_from} {self.category}/{self.window}: {self.treatment}"

    def free_tier_size(self) -> int:
        return self.free_tier if self.free_tier is not None else settings.BILLING_SERVICE_FREE_TIER


class BillingRecord(models.Model):
    """The price of one chargeable outbound message (kind=charge), or a correction of one in a
    later, open month (kind=adjustment, `adjusts` the original; `amount` is the difference)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("charge")
        ADJUSTMENT = "adjustment", _("adjustment")

    class State(models.TextChoices):
        ESTIMATED = "estimated", _("Estimated")
        BILLABLE = "billable", _("Billable")
        FREE = "free", _("Free")
        VOID = "void", _("Void")

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CHARGE)
    adjusts = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments")
    # SET_NULL: the ledger outlives a deleted message.
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="billing_records"
    )
    number = models.ForeignKey("conversations.BusinessNumber", on_delete=models.PROTECT, related_name="+")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who sent it, as it read at the time (an agent's or an API token user's name).
    sender_name = models.CharField(max_length=150, blank=True, default="")
    rate_card = models.ForeignKey(RateCard, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    country = models.CharField(max_length=2, blank=True, default="")
    market = models.CharField(max_length=64)
    category = models.CharField(max_length=32, choices=Category.choices)
    unit_price = models.DecimalField(**MONEY)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    template_name = models.CharField(max_length=512, blank=True, default="")
    template_language = models.CharField(max_length=16, blank=True, default="")
    campaign_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ESTIMATED)
    # Why it costs nothing, in words (our rule at send time, or Meta's pricing type).
    free_reason = models.CharField(max_length=255, blank=True, default="")
    # Meta's `pricing` object as it first arrived, whole (unknown fields kept).
    meta_pricing = models.JSONField(null=True, blank=True)
    # Seen a delivered/read/played status: a later `failed` cannot void it any more.
    delivered = models.BooleanField(default=False)
    # Set when Meta disagrees with our estimate: {"ours": {...}, "meta": {...}, "note": ...}.
    flag = models.JSONField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    sent_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Exactly one charge per message, enforced by the database.
            models.UniqueConstraint(
                fields=["message"], condition=Q(kind="charge"), name="billing_record_one_charge_per_message"
            ),
            models.CheckConstraint(
                condition=Q(kind="charge") | Q(adjusts__isnull=False), name="billing_record_adjustment_has_target"
            ),
        ]
        indexes = [
            # Month summary, records page and export: a month's records in (sent_at, id) order.
            models.Index(fields=["sent_at", "id"], name="billing_rec_sent_idx"),
            # The same for one business number.
            models.Index(fields=["number", "sent_at", "id"], name="billing_rec_number_sent_idx"),
            # The flagged list of the page.
            models.Index(fields=["sent_at"], condition=Q(flagged=True), name="billing_rec_flagged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.category} {self.amount} {self.currency} ({self.state})"

    @property
    def counts(self) -> bool:
        """Part of the total: estimated and billable count, free and void are zero."""
        return self.state in (self.State.ESTIMATED, self.State.BILLABLE)


class Budget(models.Model):
    """A monthly spending limit for one business number: for one month, or standing (month empty)."""

    number = models.ForeignKey("conversations.BusinessNumber", on_delete=models.CASCADE, related_name="+")
    # The first day of the month it is for; empty = every month without its own budget.
    month = models.DateField(
        _("month"), null=True, blank=True, help_text=_("First day of the month; empty = every month.")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    warning_share = models.DecimalField(
        _("warning at"), max_digits=4, decimal_places=3, default=Decimal("0.800"), help_text=_("e.g. 0.8 = 80 %")
    )
    hard_stop = models.BooleanField(_("hard stop"), default=False, help_text=_("Refuse sends that would overshoot."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number", "month"], condition=Q(month__isnull=False), name="billing_budget_one_per_month"
            ),
            models.UniqueConstraint(
                fields=["number"], condition=Q(month__isnull=True), name="billing_budget_one_standing"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="billing_budget_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(warning_share__gt=0) & Q(warning_share__lte=1), name="billing_budget_warning_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.month or 'monthly'}: {self.amount} {self.currency}"


class MonthlyUsage(models.Model):
    """Running figures of one business number in one month, the row sends lock (FOR UPDATE) so
    that the free-tier count and the budget check are exact under parallel sends."""

    number = models.ForeignKey("conversations.BusinessNumber", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    # Service-message records of the month (inside the tier or not), failed ones taken back.
    service_count = models.PositiveIntegerField(default=0)
    # Sum of estimated + billable amounts in `currency` (the currency of the first charge).
    spent = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["number", "month"], name="billing_usage_one_per_month")]

    def __str__(self) -> str:
        return f"{self.number} {self.month}: {self.spent} {self.currency}, {self.service_count} service"


class BillingRollup(models.Model):
    """Running totals of the records per UTC day, number, currency and state, one row per
    breakdown value (dimension `all` = every record once), kept in the same transaction as the
    records they count. The month summary reads these few thousand rows instead of scanning a
    million records (bench/billing_summary.py); `services.rollup_rebuild` recomputes them."""

    day = models.DateField()
    number = models.ForeignKey("conversations.BusinessNumber", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10)
    # all | category | market | template | sender
    dimension = models.CharField(max_length=10)
    key = models.CharField(max_length=512, blank=True, default="")
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(default=Decimal("0"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "number", "currency", "state", "dimension", "key"], name="billing_rollup_one_per_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key} {self.state}: {self.count} / {self.amount}"


class VolumeUsage(models.Model):
    """Charged messages of a calendar month per market and priced category, across every number
    of this installation (Meta counts per business portfolio): the position in the volume tiers.
    Locked (FOR UPDATE) only when the card has tiers for that market and category."""

    month = models.DateField()
    market = models.CharField(max_length=64)
    category = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "market", "category"], name="billing_volume_one_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.market} {self.category}: {self.count}"
