from __future__ import annotations

from django.contrib import admin

from campaigns.models import Campaign, Recipient


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "number", "template", "language", "state", "created_by", "created_at")
    list_filter = ("state",)
    readonly_fields = ("import_report", "started_at", "finished_at")


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "wa_id", "name", "state", "reason")
    list_filter = ("state",)
    raw_id_fields = ("campaign", "contact", "message")
