"""The simulator's phone page starts on a customer no demo contact has, so trying it after
`make run` opens a new chat instead of renaming a demo customer."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from conversations.models import Contact

PHONE_HTML = Path(__file__).resolve().parents[2] / "whatsapp" / "simulator" / "static" / "phone.html"


@pytest.mark.django_db
def test_the_phone_pages_default_customer_is_no_demo_contact():
    html = PHONE_HTML.read_text()
    number = re.search(r'id="wa-id"[^>]*value="([^"]+)"', html).group(1)
    name = re.search(r'id="name"[^>]*value="([^"]+)"', html).group(1)
    call_command("seed_demo", stdout=io.StringIO())
    wa_id = "".join(ch for ch in number if ch.isdigit())
    assert Contact.objects.count() > 5
    assert not Contact.objects.filter(wa_id=wa_id).exists()
    assert not Contact.objects.filter(profile_name=name).exists() and not Contact.objects.filter(name=name).exists()
