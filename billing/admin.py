"""Admin pages: budgets are edited here; rate cards and market maps are uploaded here (the same
loaders as `load_rate_card` and `load_market_map`); cards, rules and records are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.exceptions import LoadError
from billing.loaders import market_map_load, rate_card_load
from billing.models import (
    BillingRecord,
    Budget,
    MarketMapping,
    MonthlyUsage,
    PricingRule,
    Rate,
    RateCard,
    RateTier,
    VolumeUsage,
)
from core.roles import perm


def _can(request, capability: str) -> bool:
    return request.user.is_active and (request.user.is_superuser or request.user.has_perm(perm(capability)))


class BillingAdmin(admin.ModelAdmin):
    """By role capability, like the rest of the product: whoever sees billing (admins; finance
    has no /admin/ access) may look; admins (`manage_numbers`) edit what is editable."""

    def has_module_permission(self, request):
        return _can(request, "view_billing")

    def has_view_permission(self, request, obj=None):
        return _can(request, "view_billing")

    def has_add_permission(self, request):
        return _can(request, "manage_numbers")

    def has_change_permission(self, request, obj=None):
        return _can(request, "manage_numbers")

    def has_delete_permission(self, request, obj=None):
        return _can(request, "manage_numbers")


class ReadOnlyAdmin(BillingAdmin):
    """Priced data never changes in place: a new card, rule or adjusting record supersedes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RateInline(admin.TabularInline):
    model = Rate
    extra = 0
    can_delete = False
    readonly_fields = ["market", "category", "unit_price"]

    def has_view_permission(self, request, obj=None):
        return _can(request, "view_billing")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UploadForm(forms.Form):
    KINDS = [("rate_card", gettext_lazy("Meta's rates CSV")), ("market_map", gettext_lazy("Meta's market map CSV"))]
    kind = forms.ChoiceField(label=gettext_lazy("File"), choices=KINDS)
    file = forms.FileField(label=gettext_lazy("CSV file"))
    effective = forms.DateField(
        label=gettext_lazy("Effective from"),
        help_text=gettext_lazy("YYYY-MM-DD. Required for a rate card; a market map defaults to today."),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "rate_card" and not data.get("effective"):
            self.add_error("effective", _("A rate card needs the date it takes effect."))
        return data


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    list_display = ["currency", "effective_from", "title", "is_default_starting_point", "loaded_at"]
    list_filter = ["currency", "is_default_starting_point"]
    inlines = [RateInline]
    change_list_template = "admin/billing/ratecard/change_list.html"

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="billing_ratecard_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        if not _can(request, "manage_numbers"):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            content = data["file"].read()
            try:
                if data["kind"] == "rate_card":
                    card = rate_card_load(file=content, effective=data["effective"], source=data["file"].name)
                    messages.success(
                        request,
                        _("Loaded the %(currency)s card in force from %(day)s.")
                        % {"currency": card.currency, "day": card.effective_from},
                    )
                else:
                    count = market_map_load(file=content, effective=data["effective"])
                    messages.success(request, _("Mapped %(count)s codes to markets.") % {"count": count})
                return redirect(reverse("admin:billing_ratecard_changelist"))
            except LoadError as exc:
                form.add_error("file", str(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upload Meta's rate card or market map"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/ratecard/upload.html", context)


@admin.register(RateTier)
class RateTierAdmin(BillingAdmin):
    """Volume tiers as Meta publishes them (its volume-tiers file), added per card; never edited."""

    list_display = ["card", "market", "category", "from_volume", "unit_price"]
    list_filter = ["card", "category"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VolumeUsage)
class VolumeUsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "market", "category", "count"]


@admin.register(MarketMapping)
class MarketMappingAdmin(ReadOnlyAdmin):
    list_display = ["code", "market", "effective_from"]
    search_fields = ["code", "market"]
    list_filter = ["market"]


@admin.register(PricingRule)
class PricingRuleAdmin(BillingAdmin):
    """Rules are added for Meta's next change (a later date), never edited."""

    list_display = ["effective_from", "category", "window", "treatment", "rate_category", "free_tier", "note"]
    list_filter = ["effective_from", "category"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingRecord)
class BillingRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "sent_at", "number", "category", "market", "amount", "currency", "state", "flagged", "kind"]
    list_filter = ["state", "category", "flagged", "kind", "currency"]
    search_fields = ["template_name", "market", "sender_name"]
    date_hierarchy = "sent_at"
    list_select_related = ["number"]
    show_full_result_count = False


@admin.register(Budget)
class BudgetAdmin(BillingAdmin):
    list_display = ["number", "month", "amount", "currency", "warning_share", "hard_stop"]
    list_filter = ["hard_stop", "currency"]


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(ReadOnlyAdmin):
    list_display = ["number", "month", "service_count", "spent", "currency"]
