"""Callbacks and their delivery log in /admin/ (read-only: the log is evidence)."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import Callback, CallbackAttempt, CallbackDelivery


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Callback)
class CallbackAdmin(ReadOnly):
    list_display = ("id", "user", "url", "created_at", "deleted_at")
    exclude = ("secret",)


class AttemptInline(admin.TabularInline):
    model = CallbackAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ReadOnly):
    list_display = ("id", "callback", "message_id", "status", "state", "attempts", "next_attempt_at", "created_at")
    list_filter = ("state", "status")
    readonly_fields = ("callback", "message", "status", "body", "state", "attempts", "next_attempt_at", "created_at")
    inlines = [AttemptInline]


@admin.register(CallbackAttempt)
class CallbackAttemptAdmin(ReadOnly):
    list_display = ("at", "delivery", "status_code", "error", "duration_ms")
    list_filter = ("status_code",)
