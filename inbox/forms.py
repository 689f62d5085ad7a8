"""The agent pages' forms: they keep what was typed and say what to fix next to the field."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.models import Conversation
from inbox.templatetags.phone_tags import business_number


class ReplyForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Message"), required=False, max_length=4096, strip=False)
    note = forms.BooleanField(label=gettext_lazy("Private note"), required=False)
    attachment = forms.FileField(label=gettext_lazy("Attach a file"), required=False)
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Chosen when the form is shown, so a double click or a retried post sends once.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    MAX_ATTACHMENT = 16 * 1024 * 1024  # Meta's limit for audio and video; images are 5 MB

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and upload.size > self.MAX_ATTACHMENT:
            raise forms.ValidationError(_("The file is larger than 16 MB, which WhatsApp does not accept."))
        return upload

    def clean(self):
        data = super().clean()
        if not (data.get("text") or "").strip() and not data.get("attachment"):
            self.add_error("text", _("Write a message or attach a file."))
        if data.get("note") and data.get("attachment"):
            self.add_error("attachment", _("Private notes cannot carry files."))
        return data


SNOOZE_CHOICES = [
    ("1h", gettext_lazy("for 1 hour")),
    ("4h", gettext_lazy("for 4 hours")),
    ("tomorrow", gettext_lazy("until tomorrow 9:00")),
    ("week", gettext_lazy("until Monday 9:00")),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)
    snooze = forms.ChoiceField(choices=SNOOZE_CHOICES, required=False)
    # A datetime-local value, read in the viewer's time zone.
    snooze_until = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])

    def snooze_time(self, now: datetime) -> datetime | None:
        if self.cleaned_data.get("snooze_until"):
            return self.cleaned_data["snooze_until"]  # made aware in the current zone by the field
        local = timezone.localtime(now)
        preset = self.cleaned_data.get("snooze") or "1h"
        if preset == "4h":
            return now + timedelta(hours=4)
        if preset == "tomorrow":
            return _at_nine(local + timedelta(days=1))
        if preset == "week":
            return _at_nine(local + timedelta(days=7 - local.weekday()))
        return now + timedelta(hours=1)

    def clean(self):
        data = super().clean()
        until = data.get("snooze_until")
        if data.get("status") == Conversation.Status.SNOOZED and until and until <= timezone.now():
            self.add_error("snooze_until", _("Choose a time in the future."))
        return data


def _at_nine(local: datetime) -> datetime:
    return local.replace(hour=9, minute=0, second=0, microsecond=0)


ROLE_CHOICES = [
    ("agent", gettext_lazy("Agent: answers customers")),
    ("admin", gettext_lazy("Admin: templates, numbers, people")),
    ("finance", gettext_lazy("Finance: costs only")),
]


class TeamUserForm(forms.Form):
    """Add a person, or change one's role and numbers (the team page)."""

    username = forms.SlugField(label=gettext_lazy("User name"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLE_CHOICES)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("Leave empty to keep the current password."),
    )
    numbers = forms.MultipleChoiceField(
        label=gettext_lazy("Business numbers this agent works"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: all numbers, including future ones."),
    )
    campaigns = forms.BooleanField(
        label=gettext_lazy("May run campaigns"),
        required=False,
        help_text=gettext_lazy("For an agent, with the numbers above; admins always may, finance never."),
    )

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["numbers"].choices = [(n.phone_number_id, business_number(n)) for n in numbers]


class TeamTokenForm(forms.Form):
    """A new API token for a business system, acting as the chosen user."""

    user = forms.ModelChoiceField(label=gettext_lazy("Acts as"), queryset=None)
    name = forms.CharField(label=gettext_lazy("What uses it"), max_length=100, required=False)

    def __init__(self, *args, people=(), **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["user"].queryset = User.objects.filter(pk__in=[p.pk for p in people], is_active=True)


class StartConversationForm(forms.Form):
    """Write first to a customer: which of the agent's numbers, and the customer's phone number."""

    number = forms.ChoiceField(label=gettext_lazy("From the business number"))
    phone = forms.CharField(
        label=gettext_lazy("Customer's phone number"),
        max_length=40,
        help_text=gettext_lazy("With the country code, for example +49 151 23456789."),
    )

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.numbers = {str(n.pk): n for n in numbers}
        self.fields["number"].choices = [(str(n.pk), business_number(n)) for n in numbers]

    def clean_phone(self) -> str:
        """The number as WhatsApp's wa_id: digits with the country code, checked by phonenumbers."""
        import phonenumbers

        raw = self.cleaned_data["phone"].strip()
        text = raw if raw.startswith("+") else "+" + raw.lstrip("0")
        try:
            parsed = phonenumbers.parse(text)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_possible_number(parsed):
            raise forms.ValidationError(
                _("This is not a phone number with a country code (for example +49 151 23456789).")
            )
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")

    def clean_number(self):
        return self.numbers[self.cleaned_data["number"]]
