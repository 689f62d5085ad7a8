"""Campaigns: one approved template sent to many customers, each recipient with its own state.

A recipient's state moves in the same transaction as its message is inserted (and billed), so a
worker killed at any moment leaves each recipient either untouched (pending, claimed again) or
done with exactly one message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        READY = "ready", _("ready")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("done")

    name = models.CharField(_("name"), max_length=200)
    number = models.ForeignKey("conversations.BusinessNumber", on_delete=models.PROTECT, related_name="+")
    template = models.CharField(_("template"), max_length=512)
    language = models.CharField(_("language"), max_length=16)
    # Campaign-wide parameter values, shaped as the API's `parameters`; a recipient's own win.
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What the upload found: invalid rows and duplicates (kept for the dry run and the report).
    import_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.RUNNING, self.State.PAUSED)


class Recipient(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        READ = "read", _("read")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("conversations.Contact", on_delete=models.PROTECT, related_name="+")
    wa_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255, blank=True, default="")
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    message = models.OneToOneField(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipient"
    )
    reason = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaigns_recipient_once_per_contact"),
        ]
        indexes = [
            models.Index(fields=["campaign", "id"], condition=Q(state="pending"), name="campaigns_recipient_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.wa_id} ({self.state})"
