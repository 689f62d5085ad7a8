"""What business systems send through the API: the idempotency record of each call."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one API user: the request it stood for, and the answer given.

    Written in the same transaction as the message and its billing record, so a retried call
    (also one racing the first) finds either nothing (the first rolled back: it runs again) or
    the committed answer; it never sends or bills twice. Kept at least 24 hours (purged after 48).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 of the canonical request body: the same key with another body is refused.
    request_hash = models.CharField(max_length=64)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notifications_idempotency_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
