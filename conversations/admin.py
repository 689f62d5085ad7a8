"""Admin pages for what admins curate by hand: numbers, labels and canned responses."""

from __future__ import annotations

from django.contrib import admin

from conversations.models import BusinessNumber, CannedResponse, Label


@admin.register(BusinessNumber)
class BusinessNumberAdmin(admin.ModelAdmin):
    list_display = [
        "display_phone_number",
        "name",
        "phone_number_id",
        "waba_id",
        "stopped_at",
        "messaging_limit",
        "quality_rating",
    ]
    search_fields = ["display_phone_number", "name", "phone_number_id"]
    filter_horizontal = ["members"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "text"]
    search_fields = ["shortcut", "text"]
