"""The durable raw webhook event: stored before anything else happens, applied afterwards.

Meta has no history API, so this table is the only copy of what Meta told us. The raw bytes are
kept exactly (the signature can be re-checked, a parser fix can re-process them).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        FLAGGED = "flagged", _("Flagged for an admin")

    body = models.BinaryField(_("raw body"))
    # sha256 of the body: Meta's retry of the same delivery is the same row.
    dedupe_key = models.CharField(max_length=64, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RECEIVED)
    # Why it failed or was flagged, in words an admin can act on.
    reason = models.TextField(_("reason"), blank=True, default="")
    # The change fields in the body (messages, message_template_status_update, …), filled when processed.
    fields = models.JSONField(default=list, blank=True)
    # What processing did or left for others (template updates wait for the templates app).
    notes = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The processor's claim: received events in arrival order (webhooks.processor).
            models.Index(fields=["id"], condition=Q(state="received"), name="webhook_queue_idx"),
            # The admin's "needs attention" views and the stuck-event sweep: only unprocessed rows.
            models.Index(
                fields=["state", "received_at"], condition=~Q(state="processed"), name="webhook_unprocessed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.state})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")
