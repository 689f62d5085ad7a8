"""seed_templates: every state an admin meets, consistent history, idempotent."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from inbox.services import user_create_or_update
from templates_app import selectors
from templates_app.demo import WABA_ID, seed_templates
from templates_app.models import Template

pytestmark = pytest.mark.django_db


def test_demo_templates_in_every_state_and_idempotent():
    user_create_or_update(username="admin", role="admin", password="x")
    user_create_or_update(username="reviewer", role="admin", password="x")
    out = io.StringIO()
    seed_templates(stdout=out, now=timezone.now())
    seed_templates(stdout=out, now=timezone.now())
    assert "0 added" in out.getvalue().splitlines()[-1]

    def status(name, language):
        return selectors.template_status(Template.objects.get(name=name, language=language))

    assert status("spring_sale", "en_US") == "approved"
    assert status("order_update", "de") == "approved"
    assert status("appointment_reminder", "de") == "rejected"
    assert status("back_in_stock", "en_US") == "paused"
    assert status("zahlungserinnerung", "de") == "in_review"
    assert status("welcome_message", "en_US") == "draft"
    assert {t.language for t in Template.objects.all()} >= {"de", "en_US"}

    rejected = Template.objects.get(name="appointment_reminder")
    assert rejected.meta_reason == "PROMOTIONAL" and rejected.meta_recommendation
    notice = Template.objects.get(name="order_update", language="en_US")
    assert notice.correct_category == "MARKETING"
    assert [v.template.name for v in selectors.review_queue()] == ["zahlungserinnerung", "fruehlingsaktion"]
    edit = selectors.review_queue()[1]
    assert edit.number == 2 and edit.previous.number == 1

    usable = [t.name for t in selectors.templates_usable(waba_id=WABA_ID, language_first="de")]
    assert usable[:3] == ["fruehlingsaktion", "order_update", "delivery_tracking"]
    assert "back_in_stock" not in usable and "zahlungserinnerung" not in usable
    prepared = selectors.template_prepare_send(
        waba_id=WABA_ID,
        name="order_update",
        language="de",
        parameters={
            "header": {"order_id": "4711"},
            "body": {"first_name": "Jana", "delivery_day": "Montag"},
            "buttons": [{"index": 0, "parameters": ["4711"]}],
        },
    )
    assert prepared.text.startswith("Bestellung 4711\nHallo Jana,")
    history = list(rejected.events.order_by("at", "id").values_list("kind", "actor__username"))
    assert history == [
        ("created", "admin"),
        ("submitted", "admin"),
        ("approved", "reviewer"),
        ("meta_submitted", None),
        ("meta_status", None),
    ]
