from __future__ import annotations

import contextlib
import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.roles import perm
from webhooks import intake
from webhooks.models import WebhookEvent
from webhooks.retention import events_reprocess_queue


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "state", "fields", "short_reason", "attempts", "processed_at")
    list_filter = ("state",)
    search_fields = ("=dedupe_key", "reason")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    readonly_fields = (
        "received_at",
        "state",
        "reason",
        "fields",
        "notes",
        "attempts",
        "processed_at",
        "dedupe_key",
        "headers",
        "pretty_body",
    )
    exclude = ("body",)

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        # The inbox's admin role (who manages numbers) fixes what flagged events point at.
        return super().has_view_permission(request, obj) or request.user.has_perm(perm("manage_numbers"))

    def has_module_permission(self, request):
        return super().has_module_permission(request) or request.user.has_perm(perm("manage_numbers"))

    def has_change_permission(self, request, obj=None):
        return False  # raw events are evidence: read-only

    @admin.display(description=_("reason"))
    def short_reason(self, obj: WebhookEvent) -> str:
        return obj.reason[:120] + ("…" if len(obj.reason) > 120 else "")

    @admin.display(description=_("body"))
    def pretty_body(self, obj: WebhookEvent) -> str:
        text = obj.body_text
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text)

    @admin.action(description=_("Re-process the selected events"), permissions=["view"])
    def reprocess(self, request, queryset):
        queued = events_reprocess_queue(event_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)d event queued for re-processing.", "%(n)d events queued for re-processing.", queued)
            % {"n": queued},
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        count, last = intake.signature_refusals()
        extra_context = {**(extra_context or {}), "signature_refusals": count, "signature_refusals_last": last}
        return super().changelist_view(request, extra_context=extra_context)
