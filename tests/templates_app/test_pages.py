"""The template pages: list, editor with live preview, review queue, a template's page; who may see what."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from templates_app import services
from templates_app.models import Template, TemplateEvent

from .conftest import SHIPPING, created, tpl

pytestmark = pytest.mark.django_db


def form(**fields):
    base = {
        "name": "order_ready",
        "language": "de",
        "category": "UTILITY",
        "parameter_format": "positional",
        "header_format": "",
        "body": "Hallo {{1}}, deine Bestellung {{2}} liegt bereit.",
        "body_examples": "Anna\n#1042",
        "footer": "",
        "button_count": "1",
        "button_type_0": "URL",
        "button_text_0": "Abholen",
        "button_value_0": "https://shop.example/pickup/{{1}}",
        "button_example_0": "https://shop.example/pickup/1042",
    }
    base.update(fields)
    return base


def test_pages_are_for_admins(client, admin_user, agent, finance):
    template = created(admin_user)
    urls = ("/templates/", f"/templates/{template.pk}/", "/templates/new", "/templates/review/")
    for url in (*urls, f"/templates/{template.pk}/edit"):
        client.force_login(admin_user)
        assert client.get(url).status_code == 200, url
        for other in (agent, finance):
            client.force_login(other)
            assert client.get(url).status_code == 403, url
    client.force_login(finance)
    assert client.post("/templates/preview", form()).status_code == 403
    assert client.post(f"/templates/review/{template.current_version.pk}/approve").status_code == 403
    client.logout()
    assert client.get("/templates/").status_code == 302


def test_the_list_shows_status_category_language_quality_and_filters(client, admin_user):
    created(admin_user)
    draft = created(admin_user, tpl(SHIPPING, name="draft_one", language="de"), submit=False)
    Template.objects.filter(pk=draft.pk).update(quality="RED")
    client.force_login(admin_user)
    html = client.get("/templates/").content.decode()
    assert "shipping_notice" in html and "draft_one" in html
    assert "Awaiting review" in html and "Draft" in html and "Utility" in html and "en_US" in html
    only_drafts = client.get("/templates/?status=draft").content.decode()
    assert "draft_one" in only_drafts and "shipping_notice" not in only_drafts
    german = client.get("/templates/?language=de").content.decode()
    assert "draft_one" in german and "shipping_notice" not in german
    assert "shipping_notice" not in client.get("/templates/?category=MARKETING").content.decode()
    client.cookies["django_language"] = "de"
    in_german = client.get("/templates/").content.decode()  # our own states too, not only Meta's
    assert "Wartet auf Prüfung" in in_german and "Entwurf" in in_german and "Awaiting review" not in in_german


def test_the_list_query_count_does_not_grow_with_templates(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    for n in range(3):
        created(admin_user, tpl(SHIPPING, name=f"few_{n}"))
    with django_assert_max_num_queries(12) as few:
        client.get("/templates/")
    for n in range(30):
        created(admin_user, tpl(SHIPPING, name=f"many_{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/templates/")
    assert response.content.decode().count('id="template-') == 33


def test_the_list_pages_by_keyset(client, admin_user):
    for n in range(52):
        created(admin_user, tpl(SHIPPING, name=f"t_{n:02d}"), submit=False)
    client.force_login(admin_user)
    first = client.get("/templates/").content.decode()
    assert first.count('id="template-') == 50
    after = re.search(r"after=(\d+)", first).group(1)
    second = client.get(f"/templates/?after={after}").content.decode()
    assert second.count('id="template-') == 2 and "t_51" in second


def test_the_editor_keeps_what_was_typed_and_shows_each_problem_by_its_field(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/templates/new", form(name="Order Ready", body="{{1}} liegt bereit", footer="Tschüss {{1}}", action="save")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="Order Ready"' in html
    assert "{{1}} liegt bereit</textarea>" in html
    assert "Name: use only lowercase letters" in html
    assert "Body: it may not start or end with a variable" in html
    assert "Footer: variables are not allowed" in html
    assert not Template.objects.exists()


def test_the_editor_creates_and_sends_for_review(client, admin_user, number):
    client.force_login(admin_user)
    response = client.post("/templates/new", form(action="submit"))
    template = Template.objects.get(name="order_ready")
    assert response.status_code == 302 and response.url == f"/templates/{template.pk}/"
    version = template.current_version
    assert version.state == "in_review"
    assert version.components[0]["example"] == {"body_text": [["Anna", "#1042"]]}
    assert version.components[1]["buttons"][0] == {
        "type": "URL",
        "text": "Abholen",
        "url": "https://shop.example/pickup/{{1}}",
        "example": ["https://shop.example/pickup/1042"],
    }


def test_buttons_are_added_and_removed_without_javascript(client, admin_user):
    client.force_login(admin_user)
    added = client.post("/templates/new", form(action="add_button")).content.decode()
    assert 'name="button_count" value="2"' in added and 'name="button_type_1"' in added
    removed = client.post("/templates/new", form(action="remove_button_0")).content.decode()
    assert 'name="button_count" value="0"' in removed
    assert not Template.objects.exists()


def test_the_live_preview_renders_with_the_examples_and_lists_problems(client, admin_user):
    client.force_login(admin_user)
    html = client.post("/templates/preview", form()).content.decode()
    assert "Hallo Anna, deine Bestellung #1042 liegt bereit." in html
    assert "Abholen" in html and "Nothing Meta would reject so far." in html
    bad = client.post("/templates/preview", form(body="Hallo {{1}}{{2}}, ok.")).content.decode()
    assert "put text between variables" in bad


def test_editing_an_approved_template_makes_a_new_version(client, admin_user, reviewer):
    template = created(admin_user)
    version = template.current_version
    version.state = "approved"
    version.save()
    Template.objects.filter(pk=template.pk).update(
        sending_version=version, meta_status="APPROVED", meta_template_id="9"
    )
    client.force_login(reviewer)
    page = client.get(f"/templates/{template.pk}/edit").content.decode()
    assert "Hello {{1}}, your order {{2}} is on its way." in page and "1=Anna" in page
    response = client.post(
        f"/templates/{template.pk}/edit",
        form(
            name="ignored",
            language="xx",
            body="Hi {{1}}, order {{2}} ships today.",
            body_examples="1=Anna\n2=#1",
            button_count="0",
            action="submit",
        ),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.current_version.number, template.sending_version.number) == (
        "shipping_notice",
        2,
        1,
    )


def test_review_queue_with_diff_and_four_eyes(
    client, admin_user, reviewer, django_capture_on_commit_callbacks, monkeypatch
):
    template = created(admin_user)
    services.template_reject(version=template.current_version, reviewer=reviewer, reason="Shorter.", now=timezone.now())
    services.template_update(
        template=template,
        by=admin_user,
        data=tpl(
            SHIPPING, components=[{"type": "BODY", "text": "Hi {{1}}, it ships.", "example": {"body_text": [["Anna"]]}}]
        ),
        now=timezone.now(),
    )
    version = services.template_submit_for_review(template=template, by=admin_user, now=timezone.now())

    client.force_login(admin_user)
    own = client.get("/templates/review/").content.decode()
    assert "shipping_notice" in own and "Approve and submit to Meta" not in own
    assert "You wrote this version" in own
    assert client.post(f"/templates/review/{version.pk}/approve").status_code == 403

    client.force_login(reviewer)
    page = client.get("/templates/review/").content.decode()
    assert "Approve and submit to Meta" in page
    assert 'class="tpl-diff-removed">- BODY: Hello {{1}}, your order {{2}} is on its way.' in page
    assert 'class="tpl-diff-added">+ BODY: Hi {{1}}, it ships.' in page
    submitted = []
    monkeypatch.setattr(
        "templates_app.tasks.template_submit_to_meta.delay", lambda version_id: submitted.append(version_id)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/templates/review/{version.pk}/approve")
    assert response.status_code == 302 and submitted == [version.pk]


def test_reject_from_the_queue_needs_a_reason(client, admin_user, reviewer):
    template = created(admin_user)
    client.force_login(reviewer)
    client.post(f"/templates/review/{template.current_version.pk}/reject", {"reason": ""})
    assert template.current_version.__class__.objects.get(pk=template.current_version.pk).state == "in_review"
    client.post(f"/templates/review/{template.current_version.pk}/reject", {"reason": "Add the shop name."})
    assert (
        template.current_version.__class__.objects.get(pk=template.current_version.pk).reject_reason
        == "Add the shop name."
    )


def test_the_template_page_shows_metas_verdict_and_history_in_the_viewers_zone(client, admin_user):
    template = created(admin_user)
    Template.objects.filter(pk=template.pk).update(
        meta_status="REJECTED",
        meta_reason="INVALID_FORMAT",
        meta_reason_detail="Adjacent.",
        meta_recommendation="Add words.",
    )
    TemplateEvent.objects.filter(template=template).update(at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    client.force_login(admin_user)
    from inbox.models import UserProfile

    UserProfile.objects.update_or_create(user=admin_user, defaults={"time_zone": "Europe/Berlin"})
    html = client.get(f"/templates/{template.pk}/").content.decode()
    assert "INVALID_FORMAT: Adjacent." in html and "Add words." in html
    assert "Hello Anna, your order #1042 is on its way." in html
    berlin = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert f"{berlin.hour}:00" in html or "1 p.m." in html
    assert "by ada" in html


def test_the_editor_asks_for_the_business_account_when_there_are_several(client, admin_user, number):
    from conversations.services_numbers import business_number_add

    business_number_add(phone_number_id="777", display_phone_number="+1 555 0100", waba_id="333", name="US")
    client.force_login(admin_user)
    assert 'name="waba_id"' in client.get("/templates/new").content.decode()
    refused = client.post("/templates/new", form(action="save"))
    assert refused.status_code == 422 and "choose which account" in refused.content.decode()
    assert client.post("/templates/new", form(action="save", waba_id="333")).status_code == 302
    assert Template.objects.get().waba_id == "333"


def test_without_a_number_the_editor_says_to_add_one(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/templates/new", form(action="save"))
    assert response.status_code == 422 and "Add a business number first" in response.content.decode()


def test_odd_form_input_is_not_a_server_error(client, admin_user):
    client.force_login(admin_user)
    for count in ("²", "-1", "999999999999999999999", "x"):
        assert client.post("/templates/preview", form(button_count=count)).status_code == 200
    assert client.post("/templates/preview", {"template_id": "²"}).status_code == 200
    assert client.get("/templates/?after=²&status=nope&category=x").status_code == 200
