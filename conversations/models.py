"""Business numbers, contacts, conversation threads and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from conversations import window


def number_shown(name: str, display_phone_number: str) -> str:
    """A business number as the pages name it: its name, else the number."""
    return name or f"+{display_phone_number.lstrip('+')}"


def contact_shown(name: str, profile_name: str, wa_id: str, user_id: str) -> str:
    """A customer as the pages name them: the agent's name for the customer, else their WhatsApp
    profile name, else the number (else Meta's business-scoped user id)."""
    return name or profile_name or (f"+{wa_id}" if wa_id else user_id)


def contact_initial(name: str, profile_name: str, wa_id: str) -> str:
    """A customer's avatar letter: of the agent's name for them, else the WhatsApp profile name,
    else the number."""
    text = (name or profile_name or wa_id or "?").strip()
    return text[:1].upper() if text else "?"


class BusinessNumber(models.Model):
    """One WhatsApp business phone number (an inbox); Meta routes webhooks by phone_number_id."""

    phone_number_id = models.CharField(_("phone number id"), max_length=64, unique=True)
    display_phone_number = models.CharField(_("display number"), max_length=32)
    waba_id = models.CharField(_("WhatsApp Business Account id"), max_length=64)
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    # Agents who work this number's inbox. Admins see every number regardless.
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="business_numbers")
    # Set when Meta answers with a channel-stopping error (190, 368, 131031, 131042).
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=255, blank=True, default="")
    # Meta's view of the number: its phone_number_quality_update webhooks, or asked from the team
    # page (GET /{phone_number_id}). Empty: Meta has not said yet.
    messaging_limit = models.CharField(_("messaging limit"), max_length=32, blank=True, default="")  # TIER_2K, ...
    quality_rating = models.CharField(_("quality rating"), max_length=16, blank=True, default="")  # GREEN, ...
    quality_event = models.CharField(_("Meta's last quality event"), max_length=32, blank=True, default="")
    quality_updated_at = models.DateTimeField(_("quality updated at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_phone_number"]

    def __str__(self) -> str:
        return number_shown(self.name, self.display_phone_number)


class Contact(models.Model):
    """A customer as Meta identifies them: the business-scoped user id and/or the phone number."""

    class OptOutSource(models.TextChoices):
        KEYWORD = "keyword", _("customer wrote a stop keyword")
        BUTTON = "button", _("customer tapped a stop button")
        PREFERENCES = "preferences", _("customer stopped marketing in WhatsApp")
        META_ERROR = "meta_error", _("Meta refused marketing (131050)")
        AGENT = "agent", _("set by an agent")

    wa_id = models.CharField(_("WhatsApp number"), max_length=32, blank=True, default="")
    user_id = models.CharField(_("business-scoped user id"), max_length=128, blank=True, default="")
    username = models.CharField(max_length=100, blank=True, default="")
    # The name the customer chose in WhatsApp; every inbound message may bring a new one.
    profile_name = models.CharField(_("WhatsApp profile name"), max_length=255, blank=True, default="")
    # The name an agent gave the customer ("Jana Schmidt" for "Jana 🌸"): shown instead of the
    # profile name when set. Only agents write it; inbound messages never touch these three.
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    name_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("name set by"),
    )
    name_set_at = models.DateTimeField(_("name set at"), null=True, blank=True)
    # ISO 3166 region of the number's country calling code (phonenumbers); empty when unknown.
    market = models.CharField(_("market"), max_length=2, blank=True, default="")
    marketing_opted_out_at = models.DateTimeField(null=True, blank=True)
    marketing_opt_out_source = models.CharField(max_length=20, choices=OptOutSource.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wa_id"], condition=~Q(wa_id=""), name="conversations_contact_wa_id_unique"
            ),
            models.UniqueConstraint(
                fields=["user_id"], condition=~Q(user_id=""), name="conversations_contact_user_id_unique"
            ),
            models.CheckConstraint(condition=~Q(wa_id="") | ~Q(user_id=""), name="conversations_contact_has_identity"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return contact_shown(self.name, self.profile_name, self.wa_id, self.user_id)

    @property
    def marketing_opted_out(self) -> bool:
        return self.marketing_opted_out_at is not None


class Conversation(models.Model):
    """The thread between one business number and one customer; reopened, never duplicated."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SNOOZED = "snoozed", _("Snoozed")
        RESOLVED = "resolved", _("Resolved")

    number = models.ForeignKey(BusinessNumber, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    # Meta's timestamp of the customer's latest message: the customer service window runs from here.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Set when Meta refuses a free-form send with 131047: the window is closed whatever we computed.
    window_closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    labels = models.ManyToManyField("Label", blank=True, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["number", "contact"], name="conversations_conversation_one_per_pair"),
            models.CheckConstraint(
                condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False),
                name="conversations_conversation_snooze_has_until",
            ),
        ]
        indexes = [
            # The inbox list: a number's threads, newest activity first, keyset on (last_message_at, id).
            models.Index(fields=["number", "-last_message_at", "-id"], name="conv_number_recent_idx"),
            # The same list over several numbers (an admin, an agent of all numbers), and the search
            # walking it in order: without it every page sorted all open threads (bench/inbox.py).
            models.Index(fields=["-last_message_at", "-id"], name="conv_recent_idx"),
            # "My conversations" and the assignee filter.
            models.Index(fields=["assignee", "-last_message_at", "-id"], name="conv_assignee_recent_idx"),
            # Waking snoozed threads (a periodic task scans only snoozed rows).
            models.Index(fields=["snoozed_until"], condition=Q(status="snoozed"), name="conv_snoozed_until_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ↔ {self.number}"

    def window_expires_at(self) -> datetime | None:
        return window.expires_at(self.last_inbound_at, closed_at=self.window_closed_at)

    def window_open(self, at: datetime) -> bool:
        return window.is_open(self.last_inbound_at, at, closed_at=self.window_closed_at)


class Message(models.Model):
    """One message in a thread: inbound from the customer, outbound from us, or a private note."""

    class Direction(models.TextChoices):
        IN = "in", _("from customer")
        OUT = "out", _("to customer")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        NOTE = "note", _("Private note")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        PLAYED = "played", _("Played")
        FAILED = "failed", _("Failed")

    class MediaState(models.TextChoices):
        NONE = "", _("No media")
        PENDING = "pending", _("Downloading")
        STORED = "stored", _("Stored")
        FAILED = "failed", _("Download failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Meta's message type (text, image, template, reaction, …); "note" for private notes.
    type = models.CharField(max_length=32, default="text")
    text = models.TextField(blank=True, default="")
    # The message part as Meta sent it (inbound), or as we sent it (outbound).
    payload = models.JSONField(default=dict, blank=True)
    wamid = models.CharField(max_length=255, null=True, blank=True)
    # Chosen by the sender (browser or API) so a retried send never creates a second message.
    client_id = models.UUIDField(default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sent_messages"
    )
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    # The wamid the customer quoted or tapped (context.id), kept even if we do not have that message.
    context_wamid = models.CharField(max_length=255, blank=True, default="")
    template_name = models.CharField(max_length=512, blank=True, default="")
    template_language = models.CharField(max_length=16, blank=True, default="")
    template_parameters = models.JSONField(default=dict, blank=True)
    # The template's category when it was sent (MARKETING, UTILITY, AUTHENTICATION): what it
    # cost is decided by this, even if Meta re-categorises the template later.
    template_category = models.CharField(max_length=32, blank=True, default="")
    # Inbound: Meta's timestamp. Outbound: when each status step happened (Meta's timestamps).
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    played_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # When a delivery task claimed it (queued -> sending); a claim that never ends is swept.
    claimed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True, default="")
    error_details = models.TextField(blank=True, default="")
    media_id = models.CharField(max_length=255, blank=True, default="")
    media_mime_type = models.CharField(max_length=255, blank=True, default="")
    media_filename = models.CharField(max_length=255, blank=True, default="")
    media_file = models.FileField(upload_to="media/%Y/%m/", blank=True, default="")
    media_state = models.CharField(max_length=10, choices=MediaState.choices, blank=True, default="")
    media_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wamid"], name="conversations_message_wamid_unique"),
            models.UniqueConstraint(fields=["sender", "client_id"], name="conversations_message_client_id_unique"),
            models.CheckConstraint(
                condition=Q(direction="out") | Q(template_name=""), name="conversations_message_inbound_no_template"
            ),
        ]
        indexes = [
            # A thread's messages in order, keyset on (created_at, id).
            models.Index(fields=["conversation", "created_at", "id"], name="msg_thread_order_idx"),
            # Outbound work not yet handed to Meta (the delivery task claims these).
            models.Index(fields=["created_at"], condition=Q(status="queued"), name="msg_queued_idx"),
            # The sweep of claims whose worker died (conversations.tasks.messages_stuck_sending_fail).
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="msg_sending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.wamid or self.pk}"


class Label(models.Model):
    """A tag agents put on threads ("refund", "vip"); shared by all inboxes."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A saved reply: typing `/shortcut` at the start of a reply expands to `text`."""

    shortcut = models.SlugField(_("shortcut"), max_length=50, unique=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class EarlyStatus(models.Model):
    """A status webhook for a wamid we have not recorded yet.

    Meta can post `sent` (or `failed`) before the delivery task has committed the wamid it got
    back. Such a status waits here and is applied when `message_sent_record` stores the wamid;
    without this, a fast `failed` would be lost and the message would look sent.
    """

    wamid = models.CharField(max_length=255)
    status = models.CharField(max_length=10)
    # The status part as Meta sent it; whatsapp.schemas.Status.from_wire reads it again.
    raw = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wamid", "status"], name="conversations_earlystatus_once_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.wamid}"


class ContactNote(models.Model):
    """A note about the customer (not about one conversation), shown in the inbox's customer pane."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes", verbose_name=_("contact"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note about a customer")
        verbose_name_plural = _("notes about customers")

    def __str__(self) -> str:
        return f"note on {self.contact}"


class ConversationActivity(models.Model):
    """Who did what to a thread, for the customer pane's history ("Anna assigned this to Ben").

    One row per change that happened (a no-op records nothing). `actor` is None for what the
    system did by itself (REOPENED, WOKE) and for a teammate whose account was deleted since.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("assigned")
        UNASSIGNED = "unassigned", _("assignment removed")
        STATUS = "status", _("status set")
        SNOOZED = "snoozed", _("snoozed")
        LABEL_ADDED = "label_added", _("label added")
        LABEL_REMOVED = "label_removed", _("label removed")
        RETRIED = "retried", _("failed message sent again")
        # Automatic: the customer wrote to a thread that was not open (resolved, pending, snoozed).
        REOPENED = "reopened", _("reopened by the customer")
        # Automatic: a snoozed thread's time came (conversations_wake_snoozed).
        WOKE = "woke", _("woke from snooze")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The detail of each kind; the others stay empty.
    assignee = models.ForeignKey(  # ASSIGNED
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Conversation.Status.choices, blank=True, default="")  # STATUS
    snooze_until = models.DateTimeField(null=True, blank=True)  # SNOOZED
    # LABEL_*: the name as it was, so renaming or deleting the label keeps the history readable.
    label = models.CharField(max_length=50, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The pane's history: a thread's latest entries.
            models.Index(fields=["conversation", "-at", "-id"], name="conv_activity_recent_idx"),
        ]
        verbose_name = _("conversation activity")
        verbose_name_plural = _("conversation activities")

    def __str__(self) -> str:
        return f"{self.kind} on {self.conversation_id} at {self.at}"
