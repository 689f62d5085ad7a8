"""Notification templates: one per business account, name and language; their versions and history.

A `Template` holds what Meta says about it now (status, reason, quality, category). Its content
lives in `TemplateVersion`s: editing an approved template makes a new draft version, and the
version Meta approved (`sending_version`) keeps sending until the new one is approved by a second
admin and by Meta. `TemplateEvent` rows are the history: who did what and when, and every Meta
webhook that changed something.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing")
    UTILITY = "UTILITY", _("Utility")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


class ParameterFormat(models.TextChoices):
    POSITIONAL = "positional", _("Positional ({{1}})")
    NAMED = "named", _("Named ({{first_name}})")


class MetaStatus(models.TextChoices):
    NONE = "", _("Not submitted")
    PENDING = "PENDING", _("In review at Meta")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", _("Disabled")
    FLAGGED = "FLAGGED", _("Flagged")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    ARCHIVED = "ARCHIVED", _("Archived")
    PENDING_DELETION = "PENDING_DELETION", _("Pending deletion")
    DELETED = "DELETED", _("Deleted")
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", _("Limit exceeded")
    LOCKED = "LOCKED", _("Locked")


class Quality(models.TextChoices):
    GREEN = "GREEN", _("High")
    YELLOW = "YELLOW", _("Medium")
    RED = "RED", _("Low")
    UNKNOWN = "UNKNOWN", _("Unknown")


class Template(models.Model):
    waba_id = models.CharField(_("WhatsApp Business Account id"), max_length=64)
    name = models.CharField(_("name"), max_length=512)
    # Normalised like sending wants it: `en_US`, `de`.
    language = models.CharField(_("language"), max_length=16)
    # Meta's current category (what the template costs); the author's choice until Meta answers.
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    parameter_format = models.CharField(
        _("parameter format"), max_length=12, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    meta_template_id = models.CharField(max_length=64, blank=True, default="")
    meta_status = models.CharField(_("status at Meta"), max_length=20, choices=MetaStatus.choices, blank=True)
    # When the status we hold happened (Meta's clock when a webhook told us, else ours); and its
    # lifecycle stage (services.STAGES). Together they keep a late webhook from moving it back.
    meta_status_at = models.DateTimeField(null=True, blank=True)
    meta_status_stage = models.PositiveSmallIntegerField(default=0)
    # Counts status changes: the submission task compares it across its Meta call, to tell
    # whether Meta's webhook arrived before Meta's own answer.
    meta_status_seq = models.PositiveIntegerField(default=0)
    meta_reason = models.CharField(_("Meta's reason"), max_length=255, blank=True, default="")
    meta_reason_detail = models.TextField(blank=True, default="")
    meta_recommendation = models.TextField(_("Meta's recommendation"), blank=True, default="")
    quality = models.CharField(_("quality"), max_length=8, choices=Quality.choices, default=Quality.UNKNOWN)
    quality_at = models.DateTimeField(null=True, blank=True)
    # Meta's advance notice of a re-categorisation: the category it will have, and from when.
    correct_category = models.CharField(max_length=16, choices=Category.choices, blank=True, default="")
    category_change_at = models.DateTimeField(null=True, blank=True)
    category_at = models.DateTimeField(null=True, blank=True)
    # Made in Meta's manager and found by templates_sync: needs internal approval before use.
    imported = models.BooleanField(default=False)
    sending_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An edit of an approved template is in review at Meta (status PENDING): the approved
    # sending_version keeps sending meanwhile.
    sending_while_pending = models.BooleanField(default=False)
    # The newest version (what the editor and the review queue work on); kept by the services.
    current_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["waba_id", "name", "language"], name="templates_app_template_unique_name"),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="templates_app_template_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(parameter_format__in=ParameterFormat.values),
                name="templates_app_template_parameter_format_valid",
            ),
        ]
        indexes = [
            # The agent's picker: a WABA's templates Meta lets us send.
            models.Index(fields=["waba_id", "meta_status"], name="tpl_waba_status_idx"),
            # Webhooks find their template by Meta's id.
            models.Index(fields=["meta_template_id"], condition=~Q(meta_template_id=""), name="tpl_meta_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class TemplateVersion(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("Awaiting review")
        # Approved by a second admin, i.e. submitted to Meta.
        APPROVED = "approved", _("Approved internally")
        REJECTED = "rejected", _("Rejected internally")

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The category the author asked for with this version (Meta may answer with another).
    category = models.CharField(max_length=16, choices=Category.choices)
    # Meta's component list (HEADER, BODY, FOOTER, BUTTONS), examples included.
    components = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True, default="")
    # When Meta accepted the submission (the create call answered 200).
    meta_submitted_at = models.DateTimeField(null=True, blank=True)
    # Meta refused the submission (its message), so it never reached review there.
    meta_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="templates_app_version_unique_number"),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(reject_reason=""), name="templates_app_version_rejected_has_reason"
            ),
        ]
        indexes = [
            # The review queue: versions awaiting a second admin, oldest first.
            models.Index(fields=["submitted_at"], condition=Q(state="in_review"), name="tpl_version_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class TemplateEvent(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        IMPORTED = "imported", _("Imported from Meta")
        EDITED = "edited", _("Edited")
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved internally")
        REJECTED = "rejected", _("Rejected internally")
        META_SUBMITTED = "meta_submitted", _("Submitted to Meta")
        META_REFUSED = "meta_refused", _("Refused by Meta")
        META_STATUS = "meta_status", _("Status at Meta")
        QUALITY = "quality", _("Quality")
        CATEGORY_NOTICE = "category_notice", _("Category change announced")
        CATEGORY = "category", _("Category")
        SEND_ERROR = "send_error", _("Send refused")
        SYNCED = "synced", _("Reconciled by sync")

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="events")
    version = models.ForeignKey(TemplateVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_value = models.CharField(max_length=64, blank=True, default="")
    to_value = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # A template's history, newest first.
            models.Index(fields=["template", "-at", "-id"], name="tpl_event_history_idx"),
        ]

    # What Meta told us (webhooks, its answer to a submission), as opposed to what a person did.
    META_KINDS = frozenset(
        {"meta_refused", "meta_status", "quality", "category_notice", "category", "synced", "send_error"}
    )

    def __str__(self) -> str:
        return f"{self.template}: {self.kind} {self.from_value} -> {self.to_value}"

    @property
    def from_meta(self) -> bool:
        return self.kind in self.META_KINDS
