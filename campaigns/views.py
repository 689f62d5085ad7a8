"""Campaign pages (admins, and agents an admin allowed): the list, the new campaign, the dry run
and live page, the report CSV. An agent limited to some numbers sees and starts only those
numbers' campaigns; another number's is 404, as in the inbox."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns import selectors, services
from campaigns.forms import CampaignForm
from campaigns.models import Campaign
from inbox.access import capability_required

# The admin role has it; an admin may allow it to single agents on the team page.
CAPABILITY = "run_campaigns"


def _template_choices(numbers) -> list[tuple[str, str]]:
    from templates_app.selectors import templates_usable

    choices, seen = [], set()
    for waba_id in numbers.values_list("waba_id", flat=True).distinct():
        for template in templates_usable(waba_id=waba_id):
            value = f"{template.name}|{template.language}"
            if value not in seen:
                seen.add(value)
                choices.append((value, f"{template.name} ({template.language}, {template.get_category_display()})"))
    return choices


@capability_required(CAPABILITY)
def index(request):
    return render(request, "campaigns/index.html", {"campaigns": selectors.campaigns_list(user=request.user)})


@capability_required(CAPABILITY)
def new(request):
    numbers = selectors.numbers_for_campaigns(request.user).order_by("name", "display_phone_number")
    form = CampaignForm(
        request.POST or None, request.FILES or None, numbers=numbers, template_choices=_template_choices(numbers)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        name, language = data["template"].split("|", 1)
        try:
            if data.get("csv_file"):
                rows = services.rows_from_csv(data["csv_file"].read())
            else:
                rows = services.rows_for_label(number=data["number"], label=data["label"].name)
            campaign = services.campaign_create(
                name=data["name"],
                number=data["number"],
                template=name,
                language=language,
                created_by=request.user,
                rows=rows,
            )
        except services.CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/new.html", {"form": form})


# After the last send, the bar keeps following deliveries and reads for this long.
FOLLOW_AFTER_FINISH = timedelta(hours=1)


def _live(campaign: Campaign, progress) -> bool:
    """Whether the progress bar should keep polling."""
    if campaign.is_active or progress.queued or progress.sent:
        return True
    recent = campaign.finished_at is not None and timezone.now() - campaign.finished_at < FOLLOW_AFTER_FINISH
    return bool(progress.delivered and recent)


def _campaign(request, pk: int) -> Campaign:
    """The campaign if it is of one of the user's numbers; 404 otherwise (never confirm it exists)."""
    return get_object_or_404(selectors.campaigns_for_user(request.user).select_related("number", "created_by"), pk=pk)


@capability_required(CAPABILITY)
def detail(request, pk: int):
    campaign = _campaign(request, pk)
    state = request.GET.get("state", "")
    after = int(request.GET.get("after") or 0) if (request.GET.get("after") or "0").isdigit() else 0
    recipients = selectors.recipients_page(campaign, after=after, state=state, limit=100)
    progress = selectors.progress(campaign)
    context = {
        "campaign": campaign,
        "progress": progress,
        "live": _live(campaign, progress),
        "dry_run": selectors.dry_run(campaign) if campaign.state in ("draft", "ready") else None,
        "recipients": recipients,
        "next_after": recipients[-1].pk if len(recipients) == 100 else None,
        "state_filter": state,
    }
    return render(request, "campaigns/detail.html", context)


@capability_required(CAPABILITY)
def progress_partial(request, pk: int):
    campaign = _campaign(request, pk)
    progress = selectors.progress(campaign)
    context = {"campaign": campaign, "progress": progress, "live": _live(campaign, progress)}
    return render(request, "campaigns/_progress.html", context)


@require_POST
@capability_required(CAPABILITY)
def action(request, pk: int):
    campaign = _campaign(request, pk)
    try:
        services.campaign_transition(campaign=campaign, action=request.POST.get("action", ""), by=request.user)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    return redirect("campaigns:detail", pk=campaign.pk)


class _Echo:
    def write(self, value):
        return value


@capability_required(CAPABILITY)
def report_csv(request, pk: int):
    campaign = _campaign(request, pk)
    services.recipients_sync(campaign_id=campaign.pk)
    writer = csv.writer(_Echo())

    def safe(value) -> str:
        text = "" if value is None else str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    def rows():
        yield writer.writerow(["phone", "name", "state", "reason", "message_status", "error_code", "message_id"])
        for row in selectors.report_rows(campaign):
            yield writer.writerow([safe(value) for value in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    return response
