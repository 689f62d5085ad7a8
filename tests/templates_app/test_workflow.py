"""Write, review with four eyes, submit to Meta (the real simulator), edit an approved template."""

from __future__ import annotations

import pytest
from django.utils import timezone

from templates_app import selectors, services
from templates_app.exceptions import (
    FourEyesViolation,
    InvalidParameters,
    NotAllowed,
    TemplateNotApproved,
    TemplateValidationError,
    WrongState,
)
from templates_app.models import Template, TemplateEvent, TemplateVersion
from tests.simulator.helpers import wait_for

from .conftest import ORDER_UPDATE, SHIPPING, WABA, apply_posted, created, tpl

pytestmark = pytest.mark.django_db
State = TemplateVersion.State


@pytest.fixture
def meta(make_sim, settings):
    """The simulator as Meta: the client talks to it; its verdicts come only when a test asks."""
    sim = make_sim(auto_review_templates=False)
    settings.WHATSAPP_GRAPH_URL = sim.url
    settings.WHATSAPP_ACCESS_TOKEN = "test-access-token"
    return sim


def test_create_validates_and_records_who_did_it(admin_user):
    template = created(admin_user, submit=False)
    assert (template.name, template.language, template.category) == ("shipping_notice", "en_US", "UTILITY")
    assert template.current_version.state == State.DRAFT
    assert selectors.template_status(template) == "draft"
    event = template.events.get()
    assert (event.kind, event.actor, event.to_value) == (TemplateEvent.Kind.CREATED, admin_user, "draft")

    with pytest.raises(TemplateValidationError) as refused:
        created(admin_user, tpl(name="Bad Name", category="SERVICE"))
    assert {p["field"] for p in refused.value.problems} == {"name", "category"}
    with pytest.raises(TemplateValidationError) as taken:
        created(admin_user)
    assert taken.value.problems[0]["field"] == "name"


def test_agents_and_finance_may_not_write(agent, finance):
    for user in (agent, finance):
        with pytest.raises(NotAllowed):
            created(user)


def test_the_author_cannot_approve_their_own(admin_user):
    template = created(admin_user)
    with pytest.raises(FourEyesViolation):
        services.template_approve(version=template.current_version, reviewer=admin_user, now=timezone.now())
    assert TemplateVersion.objects.get(pk=template.current_version.pk).state == State.IN_REVIEW


def test_an_agent_cannot_approve(admin_user, agent):
    template = created(admin_user)
    with pytest.raises(NotAllowed):
        services.template_approve(version=template.current_version, reviewer=agent, now=timezone.now())


def test_reject_needs_a_reason_and_sends_it_back(admin_user, reviewer):
    template = created(admin_user)
    with pytest.raises(TemplateValidationError):
        services.template_reject(version=template.current_version, reviewer=reviewer, reason=" ", now=timezone.now())
    version = services.template_reject(
        version=template.current_version, reviewer=reviewer, reason="Say which shop.", now=timezone.now()
    )
    assert (version.state, version.reject_reason, version.reviewer) == (State.REJECTED, "Say which shop.", reviewer)
    template.refresh_from_db()
    assert selectors.template_status(template) == "rejected_internally"
    with pytest.raises(WrongState):
        services.template_approve(version=version, reviewer=reviewer, now=timezone.now())
    # Editing makes a new draft, which can be submitted again.
    new = services.template_update(template=template, by=admin_user, data=tpl(SHIPPING), now=timezone.now())
    assert (new.number, new.state) == (2, State.DRAFT)
    services.template_submit_for_review(template=template, by=admin_user, now=timezone.now())


def test_approval_submits_to_meta_and_metas_verdict_makes_it_sendable(
    admin_user, reviewer, meta, receiver, django_capture_on_commit_callbacks
):
    template = created(admin_user, ORDER_UPDATE)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    template.refresh_from_db()
    assert template.meta_template_id and template.meta_status == "PENDING"
    assert selectors.template_status(template) == "pending"
    at_meta = meta.find_template(name="order_update")
    assert at_meta["components"] == ORDER_UPDATE["components"] and at_meta["parameter_format"] == "NAMED"
    with pytest.raises(TemplateNotApproved):
        selectors.template_prepare_send(waba_id=WABA, name="order_update", language="de", parameters={})

    # Meta approves: the simulator posts the webhook; its exact bytes are parsed and applied.
    meta.template_approve(name="order_update")
    wait_for(lambda: receiver.changes("message_template_status_update"), what="the status webhook")
    apply_posted(receiver)
    template.refresh_from_db()
    assert template.sending_version == template.current_version
    prepared = selectors.template_prepare_send(
        waba_id=WABA,
        name="order_update",
        language="de",
        parameters={
            "header": {"order_id": "7"},
            "body": {"first_name": "Jana"},
            "buttons": [{"index": 1, "parameters": ["7"]}],
        },
    )
    assert prepared.category == "UTILITY" and prepared.template_id == template.pk
    assert prepared.text.startswith("Bestellung 7\nHallo Jana,")
    with pytest.raises(InvalidParameters) as bad:
        selectors.template_prepare_send(waba_id=WABA, name="order_update", language="de", parameters={"body": {}})
    assert {p["field"] for p in bad.value.problems} == {"header.order_id", "body.first_name", "buttons.1"}
    assert [t.name for t in selectors.templates_usable(waba_id=WABA)] == ["order_update"]

    # An edit keeps the approved version sending until the new one is approved by both.
    edited = tpl(ORDER_UPDATE)
    edited["components"][1]["text"] = "Hallo {{first_name}}, deine Bestellung kommt heute."
    version2 = services.template_update(template=template, by=admin_user, data=edited, now=timezone.now())
    services.template_submit_for_review(template=template, by=admin_user, now=timezone.now())
    template.refresh_from_db()
    assert template.sending_version.number == 1 and version2.number == 2
    assert (
        selectors.template_prepare_send(
            waba_id=WABA,
            name="order_update",
            language="de",
            parameters={
                "header": {"order_id": "7"},
                "body": {"first_name": "J"},
                "buttons": [{"index": 1, "parameters": ["7"]}],
            },
        ).version_id
        == template.sending_version_id
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=version2, reviewer=reviewer, now=timezone.now())
    assert meta.find_template(name="order_update")["components"][1]["text"].endswith("kommt heute.")
    template.refresh_from_db()
    assert template.meta_status == "PENDING" and template.sending_while_pending
    # While Meta reviews the edit, version 1 keeps sending.
    params = {"header": {"order_id": "7"}, "body": {"first_name": "J"}, "buttons": [{"index": 1, "parameters": ["7"]}]}
    during = selectors.template_prepare_send(waba_id=WABA, name="order_update", language="de", parameters=params)
    assert during.version_id == template.sending_version_id and "unterwegs" in during.text
    before = len(receiver.requests)
    meta.template_approve(name="order_update")
    wait_for(lambda: len(receiver.requests) > before, what="the approval of the edit")
    apply_posted(receiver, start=before)
    after = selectors.template_prepare_send(waba_id=WABA, name="order_update", language="de", parameters=params)
    assert after.version_id == version2.pk and "kommt heute" in after.text


def test_an_edit_meta_rejects_never_sends(admin_user, reviewer, meta, receiver, django_capture_on_commit_callbacks):
    template = created(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    meta.template_approve(name="shipping_notice")
    wait_for(lambda: receiver.requests, what="approval")
    seen = apply_posted(receiver)
    edited = tpl(SHIPPING)
    edited["components"][0]["text"] = "Hello {{1}}, order {{2}} ships today."
    version2 = services.template_update(template=template, by=admin_user, data=edited, now=timezone.now())
    services.template_submit_for_review(template=template, by=admin_user, now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=version2, reviewer=reviewer, now=timezone.now())
    meta.template_reject(name="shipping_notice", detail="Promotional.", recommendation="Remove the offer.")
    wait_for(lambda: len(receiver.requests) > seen, what="rejection")
    apply_posted(receiver, start=seen)
    template.refresh_from_db()
    assert template.meta_status == "REJECTED" and not template.sending_while_pending
    with pytest.raises(TemplateNotApproved):
        selectors.template_prepare_send(
            waba_id=WABA, name="shipping_notice", language="en_US", parameters={"body": ["a", "b"]}
        )
    # Meta keeps the approved version (as sync then reads): version 1 sends again, never the rejected edit.
    meta.find_template(name="shipping_notice")["status"] = "APPROVED"
    services.templates_sync(waba_id=WABA, now=timezone.now())
    prepared = selectors.template_prepare_send(
        waba_id=WABA, name="shipping_notice", language="en_US", parameters={"body": ["a", "b"]}
    )
    assert TemplateVersion.objects.get(pk=prepared.version_id).number == 1 and "is on its way" in prepared.text


def test_a_refusal_by_meta_is_recorded_with_metas_message(
    admin_user, reviewer, meta, django_capture_on_commit_callbacks
):
    meta.template_add(waba_id=WABA, name="shipping_notice", language="en_US", category="UTILITY", components=[])
    template = created(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    template.refresh_from_db()
    event = template.events.get(kind=TemplateEvent.Kind.META_REFUSED)
    assert "already exists" in event.detail["message"]
    assert selectors.template_status(template) == "refused_by_meta"


def test_send_errors_pause_and_disable(admin_user):
    template = created(admin_user)
    Template.objects.filter(pk=template.pk).update(meta_status="APPROVED")
    services.template_send_error_apply(
        waba_id=WABA, name="shipping_notice", language="en_US", code=132015, now=timezone.now()
    )
    template.refresh_from_db()
    assert template.meta_status == "PAUSED"
    services.template_send_error_apply(
        waba_id=WABA, name="shipping_notice", language="en-US", code=132016, now=timezone.now()
    )
    template.refresh_from_db()
    assert template.meta_status == "DISABLED"
    assert template.events.filter(kind=TemplateEvent.Kind.SEND_ERROR).count() == 2
    assert (
        services.template_send_error_apply(waba_id=WABA, name="nope", language="de", code=132015, now=timezone.now())
        is None
    )
