"""The billing endpoints of the JSON API (DESIGN.md): summary, records and quote.

Finance and admins only (capability `view_billing`); everyone else gets 403 `forbidden`.
Money is always a decimal string.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from billing import selectors
from billing.models import BillingRecord
from conversations.models import BusinessNumber, Contact, Conversation
from core.api_errors import READ_ERRORS, ApiError
from core.cursors import Position
from core.pagination import KeysetPage, keyset_paginated
from core.params import NO_NUL
from core.roles import perm

router = Router(tags=["billing"])

MAX_PAGE = 500
# YYYY-MM in the years the ledger can hold: a month in year 9999 has no "next month" to end at.
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"
MONTH = Query(..., pattern=MONTH_PATTERN, description="YYYY-MM", examples=["2026-11"])


# --- schemas ----------------------------------------------------------------------------------


class FigureOut(Schema):
    count: int
    total: str = Field(..., description="a decimal string")


class PreviousMonthOut(Schema):
    total: str = Field(..., description="a decimal string")
    count: int


class CurrencyTotalOut(Schema):
    currency: str
    total: str = Field(..., description="estimated and billable records; free and void count zero")
    count: int
    by_state: dict[str, FigureOut]
    by_category: dict[str, FigureOut]
    by_market: dict[str, FigureOut]
    by_template: dict[str, FigureOut]
    by_number: dict[str, FigureOut] = Field(..., description="keyed by Meta's phone_number_id")
    by_sender: dict[str, FigureOut]
    by_day: dict[str, FigureOut]
    previous_month: PreviousMonthOut


class SummaryOut(Schema):
    month: str = Field(..., description="YYYY-MM")
    totals: list[CurrencyTotalOut] = Field(..., description="one entry per currency")
    flagged: list[int] = Field(..., description="ids of records where Meta's pricing differs from our estimate")


class RecordOut(Schema):
    id: int
    kind: str = Field(..., description="charge or adjustment")
    adjusts: int | None
    message_id: int | None
    category: str
    market: str
    amount: str = Field(..., description="a decimal string")
    currency: str
    state: str = Field(..., description="estimated, billable, free or void")
    unit_price: str = Field(..., description="a decimal string")
    rate_card: int | None
    sent_at: datetime
    number: str = Field(..., description="Meta's phone_number_id")
    sender: str
    template: str | None
    free_reason: str
    meta_pricing: dict[str, Any] | None
    flag: dict[str, Any] | None


class RecordPage(Schema):
    items: list[RecordOut]
    next: str | None


class QuoteOut(Schema):
    category: str
    market: str
    amount: str = Field(..., description="a decimal string")
    unit_price: str = Field(..., description="a decimal string")
    currency: str
    free: bool
    reason: str


def _finance(request):
    user = request.auth
    if not user.has_perm(perm("view_billing")):
        raise PermissionDenied(_("Your role does not see billing."))
    return user


def _month(value: str | None) -> date:
    try:
        return selectors.parse_month(value)
    except ValueError as exc:
        raise ApiError(
            422, "validation_error", _("month must be YYYY-MM."), fields={"month": "expected YYYY-MM"}
        ) from exc


def _number(phone_number_id: str | None) -> BusinessNumber | None:
    if not phone_number_id:
        return None
    number = BusinessNumber.objects.filter(phone_number_id=phone_number_id).first()
    if number is None:
        raise ApiError(422, "validation_error", _("No such business number."), fields={"number": "unknown"})
    return number


def _figures(figures: dict) -> dict:
    return {key: figure.as_dict() for key, figure in figures.items()}


def summary_out(result: selectors.MonthSummary) -> dict:
    # Numbers are keyed by Meta's phone_number_id (stable, unlike a display name).
    phone_ids = {str(pk): pid for pk, pid in result.number_phone_ids.items()}
    return {
        "month": result.month.strftime("%Y-%m"),
        "totals": [
            {
                "currency": entry.currency,
                "total": str(entry.total),
                "count": entry.count,
                "by_state": _figures(entry.by_state),
                "by_category": _figures(entry.by_category),
                "by_market": _figures(entry.by_market),
                "by_template": _figures(entry.by_template),
                "by_number": {phone_ids.get(k, k): f.as_dict() for k, f in entry.by_number.items()},
                "by_sender": _figures(entry.by_sender),
                "by_day": _figures(entry.by_day),
                "previous_month": {"total": str(entry.previous_total), "count": entry.previous_count},
            }
            for entry in result.totals
        ],
        "flagged": [r.pk for r in result.flagged],
    }


def record_out(record: BillingRecord) -> dict:
    return {
        "id": record.pk,
        "kind": record.kind,
        "adjusts": record.adjusts_id,
        "message_id": record.message_id,
        "category": record.category,
        "market": record.market,
        "amount": str(record.amount),
        "currency": record.currency,
        "state": record.state,
        "unit_price": str(record.unit_price),
        "rate_card": record.rate_card_id,
        "sent_at": record.sent_at,
        "number": record.number.phone_number_id,
        "sender": record.sender_name,
        "template": record.template_name or None,
        "free_reason": record.free_reason,
        "meta_pricing": record.meta_pricing,
        "flag": record.flag,
    }


@router.get("/billing/summary", response={200: SummaryOut, **READ_ERRORS}, summary=_("A month's costs per currency"))
def billing_summary(request, month: str = MONTH, number: str | None = Query(None, pattern=NO_NUL)):
    _finance(request)
    return summary_out(selectors.summary(month=_month(month), number=_number(number)))


@router.get(
    "/billing/records",
    response={200: RecordPage, **READ_ERRORS},
    summary=_("A month's billing records, oldest first (cursor pagination)"),
)
@keyset_paginated(limit=100, max_limit=MAX_PAGE, clamp=False)
def billing_records(
    request,
    month: str = MONTH,
    number: str | None = Query(None, pattern=NO_NUL),
    category: str | None = Query(None, pattern=NO_NUL),
    market: str | None = Query(None, pattern=NO_NUL),
    state: str | None = Query(None, pattern=NO_NUL),
    template: str | None = Query(None, pattern=NO_NUL),
    flagged: bool = False,
):
    _finance(request)
    filters = {
        k: v
        for k, v in {"category": category, "market": market, "state": state, "template": template}.items()
        if v is not None
    }
    if flagged:
        filters["flagged"] = "1"
    month_start, business_number = _month(month), _number(number)

    def read_page(after: Position | None, limit: int) -> KeysetPage:
        items, nxt = selectors.records_page(
            month=month_start, number=business_number, filters=filters, after=after, limit=limit
        )
        return KeysetPage([record_out(r) for r in items], nxt)

    return read_page


class QuoteIn(Schema):
    # One of the two is needed: a conversation, or a number to write to.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["conversation_id"], "properties": {"conversation_id": {"type": "integer"}}},
                {"required": ["to"], "properties": {"to": {"type": "string"}}},
            ]
        }
    )

    conversation_id: int | None = None
    to: str | None = Field(None, pattern="[0-9]", description="a phone number; everything but its digits is ignored")
    # NO_NUL: looked up in SQL, where a NUL character fails the query.
    phone_number_id: str | None = Field(None, pattern=NO_NUL)
    template: str | None = Field(None, pattern=NO_NUL)
    language: str | None = Field(None, pattern=NO_NUL)
    # The template's category when the template is not known here (MARKETING, UTILITY, AUTHENTICATION).
    category: str | None = None


def _template_category(number: BusinessNumber, body: QuoteIn) -> str | None:
    """The category of the named template, from templates_app when it has the template."""
    try:
        from templates_app.models import Template
    except ImportError:  # pragma: no cover - templates_app is optional for billing
        Template = None
    if Template is not None and body.template:
        found = Template.objects.filter(waba_id=number.waba_id, name=body.template)
        if body.language:
            found = found.filter(language=body.language)
        category = found.values_list("category", flat=True).first()
        if category:
            return category
    if body.category:
        return body.category
    raise ApiError(
        422,
        "validation_error",
        _("Unknown template: name an existing template (and language) or give its category."),
        fields={"template": "unknown"},
    )


@router.post("/billing/quote", response={200: QuoteOut, **READ_ERRORS}, summary=_("What a message would cost, and why"))
def billing_quote(request, body: QuoteIn):
    _finance(request)
    now = timezone.now()
    conversation = None
    if body.conversation_id is not None:
        conversation = Conversation.objects.select_related("number", "contact").filter(pk=body.conversation_id).first()
        if conversation is None:
            raise ApiError(404, "not_found", _("No such conversation."))
        number, contact = conversation.number, conversation.contact
    elif body.to:
        number = _number(body.phone_number_id) or BusinessNumber.objects.order_by("pk").first()
        if number is None:
            raise ApiError(422, "validation_error", _("No business number yet."), fields={"phone_number_id": "none"})
        wa_id = "".join(ch for ch in body.to if ch.isdigit())
        if not wa_id:
            raise ApiError(422, "validation_error", _("`to` must be a phone number."), fields={"to": "invalid"})
        # An unsaved contact is enough to price a first message to a new number.
        contact = Contact.objects.filter(wa_id=wa_id).first() or Contact(wa_id=wa_id)
        conversation = Conversation.objects.filter(number=number, contact__wa_id=wa_id).first()
    else:
        raise ApiError(
            422, "validation_error", _("Give conversation_id or to."), fields={"conversation_id": "required"}
        )
    kind = "template" if (body.template or body.category) else "service"
    template_category = _template_category(number, body) if kind == "template" else None
    try:
        result = selectors.quote(
            number=number,
            contact=contact,
            kind=kind,
            template_category=template_category,
            at=now,
            conversation=conversation,
            in_window=None if conversation is not None else False,
        )
    except ValueError as exc:
        raise ApiError(422, "validation_error", str(exc), fields={"category": "unknown"}) from exc
    return {
        "category": result.category,
        "market": result.market,
        "amount": str(result.amount),
        "unit_price": str(result.unit_price),
        "currency": result.currency,
        "free": result.free,
        "reason": result.reason,
    }
