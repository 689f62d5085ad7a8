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


class Callback(models.Model):
    """A URL of a business system that hears about every status change of its notifications.

    Notifications "of" a callback are the template messages its user sent (through the API with
    one of the user's tokens, or a campaign the user started). Each POST is signed with the
    callback's own secret (shown once, when registered).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("URL"), max_length=1000)
    # Kept in clear: we sign with it. A leaked database leaks it; rotate by registering anew.
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user"], condition=models.Q(deleted_at__isnull=True), name="callback_live")]

    def __str__(self) -> str:
        return self.url


class CallbackDelivery(models.Model):
    """One status change to tell one callback about, retried with backoff for a day."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        GAVE_UP = "gave_up", _("gave up")

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    body = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["callback", "message", "status"], name="callback_once_per_status"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="callback_due"),
        ]
        verbose_name_plural = "callback deliveries"

    def __str__(self) -> str:
        return f"{self.message_id} {self.status} -> {self.callback_id}"


class CallbackAttempt(models.Model):
    """What the receiver answered to one POST: the log an admin reads."""

    delivery = models.ForeignKey(CallbackDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


def _message_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # Status changes of outbound template messages reach the sender's callbacks (if any).
    if created or instance.direction != "out" or instance.type != "template" or not instance.sender_id:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    from notifications import callbacks

    callbacks.status_changed(instance)


models.signals.post_save.connect(_message_saved, sender="conversations.Message", dispatch_uid="notifications-callbacks")
