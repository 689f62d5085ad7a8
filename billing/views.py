"""Finance pages: the month, the records behind a figure, the CSV export. Thin: selectors do the work."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing import export, selectors
from billing.models import BillingRecord, Category
from conversations.models import BusinessNumber
from core import cursors
from inbox.access import capability_required

CHART_WIDTH, CHART_HEIGHT = 620, 160
BREAKDOWNS = [
    ("category", "by_category"),
    ("market", "by_market"),
    ("template", "by_template"),
    ("number", "by_number"),
    ("sender", "by_sender"),
]


def _month_and_number(request: HttpRequest) -> tuple[date, BusinessNumber | None]:
    raw = request.GET.get("month") or timezone.now().strftime("%Y-%m")
    try:
        month = selectors.parse_month(raw)
    except ValueError as exc:
        raise Http404("month must be YYYY-MM") from exc
    number = None
    if request.GET.get("number"):
        number = BusinessNumber.objects.filter(phone_number_id=request.GET["number"]).first()
        if number is None:
            raise Http404("no such number")
    return month, number


def _link(base: dict, **extra) -> str:
    return "?" + urlencode({k: v for k, v in {**base, **extra}.items() if v not in (None, "")})


def _chart(entry: selectors.CurrencySummary, month: date, base: dict) -> dict:
    """Bars of the day-by-day totals, drawn as inline SVG by the template."""
    series = selectors.day_series(entry, month)
    peak = max((f.total for _d, f in series), default=Decimal("0")) or Decimal("1")
    slot = CHART_WIDTH / len(series)
    bars = []
    for i, (day, figure) in enumerate(series):
        height = float(figure.total / peak) * (CHART_HEIGHT - 20)
        bars.append(
            {
                "x": round(i * slot + 1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(slot - 2, 1), 1),
                "height": round(height, 1),
                "day": day,
                "figure": figure,
                "href": "records/" + _link(base, day=day.isoformat(), currency=entry.currency),
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "peak": peak}


@require_GET
@capability_required("view_billing")
def index(request: HttpRequest) -> HttpResponse:
    month, number = _month_and_number(request)
    result = selectors.summary(month=month, number=number)
    base = {"month": month.strftime("%Y-%m"), "number": number.phone_number_id if number else ""}
    numbers = list(BusinessNumber.objects.order_by("display_phone_number"))
    phone_ids = {str(n.pk): n.phone_number_id for n in numbers}
    currencies = []
    for entry in result.totals:
        breakdowns = []
        for name, attribute in BREAKDOWNS:
            rows = []
            for key, figure in getattr(entry, attribute).items():
                label = key
                if name == "number":
                    label = result.number_labels.get(int(key), key) if key else key
                elif name == "category" and key in Category.values:
                    label = Category(key).label
                elif name == "sender" and not key:
                    label = _("system (no user)")
                link = {name: key} if name != "number" else {"number": phone_ids.get(key, "")}
                rows.append(
                    {
                        "label": label or "—",
                        "figure": figure,
                        "href": "records/" + _link(base, currency=entry.currency, **link),
                    }
                )
            breakdowns.append({"name": name, "rows": rows})
        states = [
            {
                "state": state,
                "label": BillingRecord.State(state).label,
                "figure": entry.by_state.get(state, selectors.Figure()),
                "href": "records/" + _link(base, currency=entry.currency, state=state),
            }
            for state in selectors.STATES
        ]
        change = entry.total - entry.previous_total
        currencies.append(
            {
                "entry": entry,
                "states": states,
                "breakdowns": breakdowns,
                "chart": _chart(entry, month, base),
                "change": change,
                "href": "records/" + _link(base, currency=entry.currency),
            }
        )
    context = {
        "month": month,
        "month_value": base["month"],
        "previous": selectors.previous_month(month).strftime("%Y-%m"),
        "number": number,
        "numbers": numbers,
        "currencies": currencies,
        "flagged": result.flagged,
        "flagged_href": "records/" + _link(base, flagged="1"),
        "budgets": selectors.budgets_for_month(month=month),
        "export_href": "export.csv" + _link(base),
    }
    return render(request, "billing/index.html", context)


DRILL_FILTERS = ("category", "market", "template", "sender", "state", "currency", "day", "flagged")


@require_GET
@capability_required("view_billing")
def records(request: HttpRequest) -> HttpResponse:
    month, number = _month_and_number(request)
    filters = {k: request.GET[k] for k in DRILL_FILTERS if k in request.GET}
    try:
        cursor = request.GET.get("cursor")
        after = cursors.decode(cursor) if cursor else None
        items, next_position = selectors.records_page(
            month=month, number=number, filters=filters, after=after, limit=50
        )
    except ValueError as exc:  # a bad cursor (InvalidCursor) or day filter
        raise Http404(str(exc)) from exc
    query = {k: v for k, v in request.GET.items() if k != "cursor"}
    return render(
        request,
        "billing/records.html",
        {
            "month": month,
            "number": number,
            "filters": filters,
            "items": items,
            "next_href": _link(query, cursor=cursors.encode(*next_position)) if next_position else "",
            "back_href": "../"
            + _link({"month": month.strftime("%Y-%m"), "number": number.phone_number_id if number else ""}),
        },
    )


@require_GET
@capability_required("view_billing")
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    month, number = _month_and_number(request)
    blocks = export.stream(month=month, number=number)
    # Under ASGI an async body, else Django would gather the whole sync one in memory first.
    body = export.aiterate(blocks) if isinstance(request, ASGIRequest) else blocks
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    suffix = f"-{number.phone_number_id}" if number else ""
    response["Content-Disposition"] = f'attachment; filename="billing-{month:%Y-%m}{suffix}.csv"'
    return response
