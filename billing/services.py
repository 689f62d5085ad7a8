"""Billing writes: the record of a sent message, Meta's confirmation, budgets under concurrency.

Locking: a send locks its number's `MonthlyUsage` row (SELECT ... FOR UPDATE) and holds it to
the end of the sender's transaction, so the free-tier position and the budget check are exact
when sends race; where the card has volume tiers it then locks the month's `VolumeUsage` row of
that market and category (the tier position). A charged message that later turns out free or
void keeps its place in the tier count (Meta's own count, in pricing_analytics, is the truth).
A status webhook locks the record first, then the usage row; a send never waits for a record
lock, so the two cannot deadlock. Rollup rows are always taken last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from billing import pricing, rules
from billing.exceptions import BudgetExceeded
from billing.models import BillingRecord, Category, MonthlyUsage, PricingRule, VolumeUsage
from billing.rollup import rollup_record

ZERO = Decimal("0")
# Free-form types Meta does not price as a delivered service message.
NOT_CHARGED_TYPES = {"reaction", "note"}
# A month is closed (never edited in place) this long after it ended: later corrections become
# adjusting records in the open month. Meta's late statuses arrive within minutes, rarely days.
CLOSE_AFTER = timedelta(days=3)
DELIVERED_STATUSES = {"delivered", "read", "played"}


def month_closed(*, month_start, at: datetime) -> bool:
    next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return rules.day_of(at) >= next_month + CLOSE_AFTER


def _usage_locked(*, number, month) -> MonthlyUsage:
    # The row exists after the month's first send: one locking read. Else INSERT ... ON CONFLICT
    # DO NOTHING, then lock: racing first sends of a month both succeed.
    usage = MonthlyUsage.objects.select_for_update().filter(number=number, month=month).first()
    if usage is not None:
        return usage
    MonthlyUsage.objects.bulk_create([MonthlyUsage(number=number, month=month)], ignore_conflicts=True)
    return MonthlyUsage.objects.select_for_update().get(number=number, month=month)


def _volume_locked(*, month, market: str, category: str) -> VolumeUsage:
    volume = VolumeUsage.objects.select_for_update().filter(month=month, market=market, category=category).first()
    if volume is not None:
        return volume
    VolumeUsage.objects.bulk_create([VolumeUsage(month=month, market=market, category=category)], ignore_conflicts=True)
    return VolumeUsage.objects.select_for_update().get(month=month, market=market, category=category)


def _usage_add(usage: MonthlyUsage, *, amount: Decimal, currency: str, service: int = 0) -> None:
    updates: dict = {}
    if service:
        updates["service_count"] = F("service_count") + service
    if amount:
        if not usage.currency:
            usage.currency = currency
            updates["currency"] = currency
        if usage.currency == currency:
            updates["spent"] = F("spent") + amount
    if updates:
        MonthlyUsage.objects.filter(pk=usage.pk).update(**updates)


# No savepoint: BudgetExceeded (or any error) must roll back the message with it, so the caller's
# transaction (or its own savepoint, as a campaign's per recipient) is the unit; alone, it is one.
@transaction.atomic(savepoint=False)
def billing_record_for_message(*, message, now: datetime, campaign_id: int | None = None) -> BillingRecord | None:
    """Price an outbound message as the sending path creates it (inside its transaction).

    Templates always get a record; a free-form message gets one when the rules in force at
    `now` price service messages (also inside the free tier, at 0, so the tier count and Meta's
    confirmation work). Raises BudgetExceeded when a hard-stop budget would be overshot.
    `campaign_id`: the campaign that sends it, for the breakdowns (campaign sends pass it).
    """
    if message.direction != "out" or message.type in NOT_CHARGED_TYPES:
        return None
    conversation = message.conversation
    number, contact = conversation.number, conversation.contact
    kind = "template" if message.type == "template" else "service"
    in_window = conversation.window_open(now)
    template_category, unknown_category = message.template_category or None, False
    rule = pricing.UNREAD
    if kind == "template":
        try:
            rules.category_for(kind=kind, template_category=template_category)
        except ValueError:
            # Never block a send over a missing category: price it as marketing (the dearest)
            # and flag it; Meta's pricing on the status webhook tells the truth.
            template_category, unknown_category = Category.MARKETING, True
    else:
        rule = rules.rule_for(category=Category.SERVICE, in_window=in_window, at=now)
        if rule is not None and rule.treatment == PricingRule.Treatment.FREE:
            return None  # free-form messages are free in this period: no record
    assessment = pricing.assess(
        number=number,
        contact=contact,
        kind=kind,
        template_category=template_category,
        at=now,
        in_window=in_window,
        rule=rule,  # a service message's rule, read above; not again
    )

    month = rules.month_of(now)
    usage = _usage_locked(number=number, month=month)
    amount, free_reason = assessment.unit_price, ""
    if assessment.treatment == PricingRule.Treatment.FREE:
        amount, free_reason = ZERO, pricing.reason_free_rule(assessment)
    elif assessment.treatment == PricingRule.Treatment.FREE_TIER and usage.service_count < assessment.free_tier:
        amount, free_reason = ZERO, pricing.reason_in_tier(assessment, usage.service_count + 1)

    unit_price, volume = assessment.unit_price, None
    tiers = assessment.tiers
    if amount > 0 and tiers:
        # Lock order: number usage, then the volume row, then rollup rows.
        volume = _volume_locked(month=month, market=assessment.priced_market, category=assessment.rate_category)
        unit_price = amount = rules.tier_price(tiers, position=volume.count + 1, list_price=assessment.unit_price)

    budget = assessment.budget  # read by assess for the card's currency; the same row
    if amount > 0 and budget is not None and budget.hard_stop and budget.currency == assessment.currency:
        spent = usage.spent if usage.currency in ("", budget.currency) else ZERO
        if spent + amount > budget.amount:
            remaining = max(budget.amount - spent, ZERO)
            raise BudgetExceeded(
                remaining=remaining,
                currency=budget.currency,
                message=_("This number's budget for the month is used up: %(remaining)s %(currency)s left.")
                % {"remaining": pricing.money(remaining), "currency": budget.currency},
            )

    sender = message.sender
    record = BillingRecord.objects.create(
        message=message,
        number=number,
        sender=sender,
        sender_name=sender.get_username() if sender is not None else "",
        rate_card=assessment.card,
        country=assessment.country,
        market=assessment.market,
        category=assessment.category,
        unit_price=unit_price,
        amount=amount,
        currency=assessment.currency,
        template_name=message.template_name,
        template_language=message.template_language,
        campaign_id=campaign_id if campaign_id is not None else getattr(message, "campaign_id", None),
        free_reason=free_reason,
        sent_at=now,
        flagged=unknown_category,
        flag={"note": _("The template's category was not known at send time; priced as marketing.")}
        if unknown_category
        else None,
    )
    rollup_record(record)
    if volume is not None:
        VolumeUsage.objects.filter(pk=volume.pk).update(count=F("count") + 1)
    _usage_add(
        usage,
        amount=amount,
        currency=assessment.currency,
        service=1 if assessment.category == Category.SERVICE else 0,
    )
    return record


# --- Meta's confirmation ----------------------------------------------------------------------


def _meta_verdict(pricing_obj: dict) -> tuple[bool, str, str]:
    """(billable, category, type) as Meta states it; `type` first, `billable` (deprecated) as fallback."""
    type_ = str(pricing_obj.get("type") or "")
    billable = type_ == "regular" if type_ else bool(pricing_obj.get("billable"))
    return billable, rules_category(pricing_obj.get("category")), type_


def rules_category(value) -> str:
    from billing.models import normalize_category

    return normalize_category(value if isinstance(value, str) else "")


def _free_reason_from_meta(type_: str, *, sent_at: datetime) -> str:
    """Meta's `type` read by the rules in force when the message was sent (its meaning changed
    on 2026-10-01: from then `free_customer_service` means inside the number's free tier)."""
    if type_ == "free_entry_point":
        return _("Meta: free entry point window.")
    if type_ in ("free_customer_service", "free_group_customer_service"):
        if rules.service_free_tier_at(sent_at) is not None:
            return _("Meta: inside this number's free tier of service messages.")
        return _("Meta: free customer service (inside the customer service window).")
    return _("Meta: free (%(type)s).") % {"type": type_ or "billable: false"}


def _flag(record: BillingRecord, *, meta_billable: bool, meta_category: str, meta_type: str, note: str) -> None:
    record.flag = {
        "ours": {"category": record.category, "billable": record.amount > 0, "amount": str(record.amount)},
        "meta": {"category": meta_category, "billable": meta_billable, "type": meta_type},
        "note": note,
    }
    record.flagged = True


def _move_money(record: BillingRecord, *, new_amount: Decimal, at: datetime, reason: str) -> None:
    """Set the record's amount, or in a closed month leave it and book the difference as an
    adjusting record in the open month."""
    record_month = rules.month_of(record.sent_at)
    closed = month_closed(month_start=record_month, at=at)
    booked = record.amount
    if closed:
        # What the ledger already says for this message, earlier adjustments included.
        booked += sum((a.amount for a in record.adjustments.all()), ZERO)
    difference = new_amount - booked
    if not difference:
        return
    if closed:
        usage = _usage_locked(number=record.number, month=rules.month_of(at))
        adjustment = BillingRecord.objects.create(
            kind=BillingRecord.Kind.ADJUSTMENT,
            adjusts=record,
            message=record.message,
            number=record.number,
            sender=record.sender,
            sender_name=record.sender_name,
            rate_card=record.rate_card,
            country=record.country,
            market=record.market,
            category=record.category,
            unit_price=record.unit_price,
            amount=difference,
            currency=record.currency,
            template_name=record.template_name,
            template_language=record.template_language,
            campaign_id=record.campaign_id,
            state=BillingRecord.State.BILLABLE,
            free_reason=reason,
            sent_at=at,
        )
        rollup_record(adjustment)
        _usage_add(usage, amount=adjustment.amount, currency=record.currency)
        return
    usage = _usage_locked(number=record.number, month=record_month)
    _usage_add(usage, amount=difference, currency=record.currency)
    record.amount = new_amount


def _state_in_closed_month(record: BillingRecord, at: datetime) -> bool:
    return month_closed(month_start=rules.month_of(record.sent_at), at=at)


def billing_status_apply(*, message_id: int, status: str, pricing: dict | None, at: datetime) -> None:
    """Apply a status webhook to the message's record (none: nothing to do).

    The first `pricing` decides (regular -> billable, free_* -> free) and is stored whole; later
    ones only confirm (a different one is noted in the flag). A disagreement with our estimate
    (category, or billable or not) flags the record with both. `failed` before any delivery
    voids it. Repeated or late webhooks change the state at most once. In a closed month the
    record keeps its amount and state; the difference is booked as an adjusting record.
    """
    with transaction.atomic():
        record = (
            BillingRecord.objects.select_for_update()
            .filter(message_id=message_id, kind=BillingRecord.Kind.CHARGE)
            .first()
        )
        if record is None:
            return
        # Lock order: record, then the month's usage row, then rollup rows (as sends: usage, rollup).
        _usage_locked(number=record.number, month=rules.month_of(record.sent_at))
        before = (record.state, record.amount)
        fields: set[str] = set()
        if status in DELIVERED_STATUSES and not record.delivered:
            record.delivered = True
            fields.add("delivered")
        closed = _state_in_closed_month(record, at)

        if pricing:
            meta_billable, meta_category, meta_type = _meta_verdict(pricing)
            if record.meta_pricing is None:
                record.meta_pricing = pricing
                fields.add("meta_pricing")
                if record.state == BillingRecord.State.ESTIMATED:
                    ours_billable = record.amount > 0
                    disagrees = meta_billable != ours_billable or (meta_category and meta_category != record.category)
                    if disagrees:
                        _flag(
                            record,
                            meta_billable=meta_billable,
                            meta_category=meta_category,
                            meta_type=meta_type,
                            note=_("Meta's pricing differs from our estimate."),
                        )
                        fields |= {"flag", "flagged"}
                    if meta_billable:
                        new_amount = record.amount if ours_billable else record.unit_price
                        _move_money(record, new_amount=new_amount, at=at, reason=_("Meta billed it."))
                        if not closed:
                            record.state = BillingRecord.State.BILLABLE
                            record.free_reason = "" if new_amount else record.free_reason
                    else:
                        reason = _free_reason_from_meta(meta_type, sent_at=record.sent_at)
                        _move_money(record, new_amount=ZERO, at=at, reason=reason)
                        if not closed:
                            record.state = BillingRecord.State.FREE
                            record.free_reason = reason
                    fields |= {"amount", "state", "free_reason"}
            elif _differs(record.meta_pricing, pricing) and not (record.flag or {}).get("later"):
                record.flag = {**(record.flag or {}), "later": pricing}
                record.flagged = True
                fields |= {"flag", "flagged"}

        if status == "failed" and not record.delivered and record.state != BillingRecord.State.VOID:
            _move_money(record, new_amount=ZERO, at=at, reason=_("The message failed and was never delivered."))
            if not closed:
                record.state = BillingRecord.State.VOID
                record.free_reason = _("The message failed and was never delivered.")
                if record.category == Category.SERVICE:
                    # A failed service message does not use up the free tier.
                    MonthlyUsage.objects.filter(
                        number=record.number, month=rules.month_of(record.sent_at), service_count__gt=0
                    ).update(service_count=F("service_count") - 1)
            fields |= {"amount", "state", "free_reason"}

        if fields:
            record.save(update_fields=[*fields, "updated_at"])
            rollup_record(record, before=before)


def _differs(first: dict, later: dict) -> bool:
    return (first.get("type"), rules_category(first.get("category"))) != (
        later.get("type"),
        rules_category(later.get("category")),
    )
