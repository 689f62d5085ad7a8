"""templates_sync against the real simulator: import what Meta has and we do not, reconcile the rest."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from templates_app import selectors, services
from templates_app.exceptions import TemplateNotApproved
from templates_app.models import Template, TemplateEvent
from templates_app.tasks import templates_sync_all

from .conftest import SHIPPING, WABA, created

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta(make_sim, settings):
    sim = make_sim(auto_review_templates=False)
    settings.WHATSAPP_GRAPH_URL = sim.url
    settings.WHATSAPP_ACCESS_TOKEN = "test-access-token"
    return sim


def add_at_meta(meta, name, *, status="APPROVED", language="de", **extra):
    return meta.template_add(
        waba_id=WABA,
        name=name,
        language=language,
        category=extra.pop("category", "MARKETING"),
        components=[{"type": "BODY", "text": f"Hallo {{{{1}}}}, {name}.", "example": {"body_text": [["Anna"]]}}],
        status=status,
        **extra,
    )


def test_unknown_templates_are_imported_and_need_internal_approval(meta, admin_user, reviewer):
    for n in range(105):  # more than one page of 100
        add_at_meta(meta, f"promo_{n:03d}")
    add_at_meta(meta, "welcome", language="en_US")
    meta.template_add(waba_id="999", name="elsewhere", language="de", category="UTILITY", components=[])

    result = services.templates_sync(waba_id=WABA, now=timezone.now())

    assert (result.seen, result.imported) == (106, 106)
    template = Template.objects.get(name="promo_000")
    assert template.imported and template.meta_status == "APPROVED" and template.category == "MARKETING"
    assert template.current_version.state == "in_review" and template.current_version.author is None
    assert template.events.get().kind == TemplateEvent.Kind.IMPORTED
    assert not Template.objects.filter(name="elsewhere").exists()
    with pytest.raises(TemplateNotApproved):
        selectors.template_prepare_send(waba_id=WABA, name="promo_000", language="de", parameters={"body": ["Jana"]})

    services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    prepared = selectors.template_prepare_send(
        waba_id=WABA, name="promo_000", language="de", parameters={"body": ["Jana"]}
    )
    assert prepared.text == "Hallo Jana, promo_000."

    again = services.templates_sync(waba_id=WABA, now=timezone.now())
    assert (again.imported, again.updated) == (0, 0)


def test_sync_repairs_what_a_missed_webhook_left_stale(meta, admin_user):
    template = created(admin_user, SHIPPING)
    at_meta = add_at_meta(meta, "shipping_notice", language="en_US", status="PAUSED", category="UTILITY", quality="RED")
    Template.objects.filter(pk=template.pk).update(meta_template_id=at_meta["id"], meta_status="APPROVED")
    gone = created(admin_user, {**SHIPPING, "name": "gone_at_meta"})
    Template.objects.filter(pk=gone.pk).update(meta_template_id="123", meta_status="APPROVED")

    result = services.templates_sync(waba_id=WABA, now=timezone.now())

    assert result.updated == 2
    template.refresh_from_db()
    assert (template.meta_status, template.quality) == ("PAUSED", "RED")
    event = template.events.get(kind=TemplateEvent.Kind.SYNCED)
    assert event.detail["status"] == {"from": "APPROVED", "to": "PAUSED"}
    assert Template.objects.get(pk=gone.pk).meta_status == "DELETED"


def test_the_command_and_the_beat_task(meta, number, capsys):
    add_at_meta(meta, "welcome")
    call_command("templates_sync", "--waba-id", WABA)
    assert "1 imported" in capsys.readouterr().out
    add_at_meta(meta, "welcome_back")
    assert templates_sync_all() == {"imported": 1, "updated": 0, "failed": 0}


def test_content_edited_in_metas_manager_needs_internal_approval_again(meta, admin_user, reviewer):
    at_meta = add_at_meta(meta, "welcome")
    services.templates_sync(waba_id=WABA, now=timezone.now())
    template = Template.objects.get(name="welcome")
    services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    params = {"body": ["Jana"]}
    assert selectors.template_prepare_send(waba_id=WABA, name="welcome", language="de", parameters=params)
    assert services.templates_sync(waba_id=WABA, now=timezone.now()).updated == 0  # same content: nothing

    at_meta = meta.find_template(template_id=at_meta["id"])
    at_meta["components"] = [{"type": "BODY", "text": "Hallo {{1}}, schön dich zu sehen."}]
    assert services.templates_sync(waba_id=WABA, now=timezone.now()).updated == 1
    template.refresh_from_db()
    assert (template.current_version.number, template.current_version.state) == (2, "in_review")
    with pytest.raises(TemplateNotApproved):
        selectors.template_prepare_send(waba_id=WABA, name="welcome", language="de", parameters=params)
    assert services.templates_sync(waba_id=WABA, now=timezone.now()).updated == 0  # not imported twice

    services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    prepared = selectors.template_prepare_send(waba_id=WABA, name="welcome", language="de", parameters=params)
    assert prepared.text == "Hallo Jana, schön dich zu sehen."


def test_editing_an_imported_template_makes_a_new_version(meta, admin_user):
    add_at_meta(meta, "welcome")
    services.templates_sync(waba_id=WABA, now=timezone.now())
    template = Template.objects.get(name="welcome")
    data = {
        "name": "welcome",
        "language": "de",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hallo {{1}}, willkommen.", "example": {"body_text": [["Anna"]]}}],
    }
    version = services.template_update(template=template, by=admin_user, data=data, now=timezone.now())
    assert (version.number, version.meta_submitted_at) == (2, None)
    assert template.versions.get(number=1).components[0]["text"] == "Hallo {{1}}, welcome."
