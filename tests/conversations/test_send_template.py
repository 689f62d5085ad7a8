"""Sending approved templates through the conversations path: the checks, the record, the
delivery, Meta's template errors, and the billing record written with the message."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine

from conversations import services, tasks
from conversations.exceptions import InvalidTemplateParameters, OptedOut, TemplateNotApproved
from conversations.models import Message
from tests.conversations.conftest import bearer, receive, utc
from whatsapp.errors import CloudApiError

T0 = utc(2026, 11, 2, 10, 0, 0)
LATE = T0 + timedelta(days=3)

ORDER_UPDATE = [
    {"type": "HEADER", "format": "TEXT", "text": "Bestellung {{order_id}}",
     "example": {"header_text_named_params": [{"param_name": "order_id", "example": "1042"}]}},
    {"type": "BODY", "text": "Hallo {{first_name}}, deine Bestellung ist unterwegs.",
     "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Anna"}]}},
    {"type": "FOOTER", "text": "Dein Shop"},
    {"type": "BUTTONS", "buttons": [
        {"type": "URL", "text": "Verfolgen", "url": "https://shop.example/t/{{1}}", "example": ["https://shop.example/t/1042"]}
    ]},
]  # fmt: skip

SPRING_SALE = [
    {"type": "BODY", "text": "Hallo {{1}}, heute {{2}} Rabatt!", "example": {"body_text": [["Anna", "20 %"]]}},
    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
]


def _template(number, *, name, components, category, parameter_format, meta_status="APPROVED", language="de"):
    from templates_app.models import Template, TemplateVersion

    template = Template.objects.create(
        waba_id=number.waba_id,
        name=name,
        language=language,
        category=category,
        parameter_format=parameter_format,
        meta_status=meta_status,
        meta_template_id=f"9{uuid.uuid4().int % 10**12}",
    )
    version = TemplateVersion.objects.create(
        template=template, number=1, category=category, components=components, state=TemplateVersion.State.APPROVED
    )
    template.sending_version = version
    template.save(update_fields=["sending_version"])
    return template


@pytest.fixture
def conversation(number):
    return receive(number, at=T0).conversation


GOOD = {
    "header": {"order_id": "1042"},
    "body": {"first_name": "Jana"},
    "buttons": [{"index": 0, "parameters": ["1042"]}],
}


def _send(conversation, sender, template, parameters, **kwargs):
    return services.message_send_template(
        conversation=conversation,
        sender=sender,
        template=template.name,
        language=template.language,
        parameters=parameters,
        now=LATE,
        **kwargs,
    )


@pytest.mark.django_db
def test_a_template_goes_out_after_the_window_closed(conversation, agent, order_update, fake_client):
    assert not conversation.window_open(LATE)
    message = _send(conversation, agent, order_update, GOOD)
    assert (message.type, message.status) == ("template", "queued")
    assert (message.template_name, message.template_language, message.template_category) == (
        "order_update",
        "de",
        "UTILITY",
    )
    assert "Hallo Jana, deine Bestellung ist unterwegs." in message.text
    assert "Bestellung 1042" in message.text

    with time_machine.travel(LATE + timedelta(seconds=5), tick=False):
        tasks.message_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == "sent"
    ((_pnid, payload),) = fake_client.sent
    assert payload["type"] == "template"
    assert payload["template"]["name"] == "order_update"
    assert payload["template"]["language"] == {"code": "de"}
    sent_text = [
        p.get("text") for c in payload["template"]["components"] for p in c.get("parameters", []) if p.get("text")
    ]
    assert sorted(sent_text) == ["1042", "1042", "Jana"]


@pytest.mark.django_db
def test_not_approved_paused_or_unknown_templates_are_refused(conversation, agent, number, fake_client):
    pending = _template(
        number, name="pending_one", components=SPRING_SALE, category="UTILITY", parameter_format="positional",
        meta_status="PENDING",
    )  # fmt: skip
    paused = _template(
        number, name="paused_one", components=SPRING_SALE, category="UTILITY", parameter_format="positional",
        meta_status="PAUSED",
    )  # fmt: skip
    for template in (pending, paused):
        with pytest.raises(TemplateNotApproved):
            _send(conversation, agent, template, {"body": ["Jana", "10 %"]})
    with pytest.raises(TemplateNotApproved):
        services.message_send_template(
            conversation=conversation, sender=agent, template="no_such", language="de", parameters={}, now=LATE
        )
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_every_parameter_problem_is_listed(conversation, agent, order_update):
    with pytest.raises(InvalidTemplateParameters) as excinfo:
        _send(conversation, agent, order_update, {"body": {"firstname": "Jana", "extra": "x"}})
    problems = excinfo.value.problems
    assert len(problems) >= 3  # missing first_name, unknown firstname/extra, missing order_id, missing URL suffix
    assert all(problem.get("field") and problem.get("message") for problem in problems)
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_marketing_to_an_opted_out_customer_is_refused_but_utility_is_not(
    conversation, agent, spring_sale, order_update
):
    services.contact_opt_out(contact=conversation.contact, source="keyword", at=T0)
    with pytest.raises(OptedOut):
        _send(conversation, agent, spring_sale, {"body": ["Jana", "20 %"]})
    assert _send(conversation, agent, order_update, GOOD).status == "queued"


@pytest.mark.django_db
def test_a_retried_send_with_the_same_client_id_is_one_message(conversation, agent, order_update):
    client_id = uuid.uuid4()
    first = _send(conversation, agent, order_update, GOOD, client_id=client_id)
    again = _send(conversation, agent, order_update, GOOD, client_id=client_id)
    assert first.pk == again.pk
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.django_db
def test_the_task_sends_a_template_once_under_retries(conversation, agent, order_update, fake_client):
    message = _send(conversation, agent, order_update, GOOD)
    with time_machine.travel(LATE + timedelta(seconds=5), tick=False):
        for _ in range(3):
            tasks.message_deliver.apply(args=[message.pk])
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("code, status", [(132015, "PAUSED"), (132016, "DISABLED")])
def test_meta_saying_paused_or_disabled_fails_the_message_and_marks_the_template(
    conversation, agent, order_update, fake_client, code, status
):
    message = _send(conversation, agent, order_update, GOOD)
    fake_client.fail_with.append(CloudApiError(code=code, title="Template paused", details="", http_status=400))
    with time_machine.travel(LATE + timedelta(seconds=5), tick=False):
        tasks.message_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    order_update.refresh_from_db()
    assert message.status == "failed" and message.error_code == code
    assert order_update.meta_status == status
    with pytest.raises(TemplateNotApproved):
        _send(conversation, agent, order_update, GOOD)


@pytest.mark.django_db
def test_a_template_send_writes_its_billing_record_and_a_failure_voids_it(
    conversation, agent, order_update, fake_client
):
    from billing.models import BillingRecord

    message = _send(conversation, agent, order_update, GOOD)
    record = BillingRecord.objects.get(message=message)
    assert record.state == "estimated" and record.category == "utility" and record.amount > 0
    fake_client.fail_with.append(CloudApiError(code=132000, title="Parameter mismatch", details="", http_status=400))
    with time_machine.travel(LATE + timedelta(seconds=5), tick=False):
        tasks.message_deliver.apply(args=[message.pk])
    record.refresh_from_db()
    assert record.state == "void"


# --- the JSON API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_sends_a_template_outside_the_window(client, conversation, agent, order_update):
    with time_machine.travel(LATE, tick=False):
        response = client.post(
            f"/api/v1/conversations/{conversation.pk}/messages",
            {"template": "order_update", "language": "de", "parameters": GOOD},
            content_type="application/json",
            **bearer(agent),
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["template"]["name"] == "order_update" and body["template"]["category"] == "UTILITY"


@pytest.mark.django_db
def test_api_errors_follow_the_contract(client, conversation, agent, order_update, spring_sale):
    headers = bearer(agent)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    with time_machine.travel(LATE, tick=False):
        unknown = client.post(url, {"template": "nope", "language": "de"}, content_type="application/json", **headers)
        invalid = client.post(
            url,
            {"template": "order_update", "language": "de", "parameters": {"body": {}}},
            content_type="application/json",
            **headers,
        )
        services.contact_opt_out(contact=conversation.contact, source="keyword", at=LATE)
        opted_out = client.post(
            url,
            {"template": "spring_sale", "language": "de", "parameters": {"body": ["A", "B"]}},
            content_type="application/json",
            **headers,
        )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (409, "template_not_approved")
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (422, "invalid_parameters")
    assert invalid.json()["error"]["problems"]
    assert (opted_out.status_code, opted_out.json()["error"]["code"]) == (409, "opted_out")
