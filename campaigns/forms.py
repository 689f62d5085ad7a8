from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from conversations.models import BusinessNumber, Label
from inbox.templatetags.phone_tags import business_number


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    number = forms.ModelChoiceField(label=_("Business number"), queryset=BusinessNumber.objects.none())
    template = forms.ChoiceField(label=_("Approved template"), choices=())
    csv_file = forms.FileField(
        label=_("Recipients (CSV)"),
        required=False,
        help_text=_("Columns: phone (with country code), name, and one per template value."),
    )
    label = forms.ModelChoiceField(
        label=_("…or the contacts labelled"), queryset=Label.objects.order_by("name"), required=False
    )

    def __init__(self, *args, numbers, template_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = numbers
        self.fields["number"].label_from_instance = business_number
        self.fields["template"].choices = template_choices

    def clean(self):
        data = super().clean()
        if not data.get("csv_file") and not data.get("label"):
            self.add_error("csv_file", _("Upload a CSV file or choose a label."))
        return data
