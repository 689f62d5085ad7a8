"""POST /api/v1/notifications and GET /api/v1/notifications/{id}: a template to a phone number,
exactly once per Idempotency-Key, with its billing; the errors of the contract."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from billing.models import BillingRecord
from conversations.models import Conversation, Message
from notifications.models import IdempotencyRecord
from tests.conversations.conftest import bearer
from tests.conversations.test_send_template import GOOD

URL = "/api/v1/notifications"
BODY = {"to": "+49 151 23456789", "template": "order_update", "language": "de", "parameters": GOOD}


def post(client, body, headers, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, content_type="application/json", **headers, **extra)


@pytest.mark.django_db
def test_a_notification_reaches_a_customer_without_a_conversation(client, agent, number, order_update):
    response = post(client, BODY, bearer(agent))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["to"] == "+4915123456789"
    assert body["billing"]["category"] == "utility" and body["billing"]["currency"]
    assert isinstance(body["billing"]["amount"], str)
    message = Message.objects.get(pk=body["id"])
    thread = Conversation.objects.get(pk=body["conversation_id"])
    assert message.conversation == thread and thread.number == number  # the agent sees it in the thread
    assert BillingRecord.objects.filter(message=message).count() == 1

    detail = client.get(f"{URL}/{body['id']}", **bearer(agent))
    assert detail.status_code == 200 and detail.json()["billing"]["amount"] == body["billing"]["amount"]


@pytest.mark.django_db
def test_the_same_key_and_body_return_the_first_answer(client, agent, order_update):
    headers = bearer(agent)
    first = post(client, BODY, headers, key="order-1042-shipped")
    again = post(client, BODY, headers, key="order-1042-shipped")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert Message.objects.filter(direction="out").count() == 1
    assert BillingRecord.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(client, agent, order_update):
    headers = bearer(agent)
    assert post(client, BODY, headers, key="k1").status_code == 202
    other = post(client, {**BODY, "to": "+4915199999999"}, headers, key="k1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "validation_error"
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_retries_with_one_key_send_and_bill_once(agent, number, order_update):
    from django.test import Client

    headers = bearer(agent)
    answers: list = []
    barrier = threading.Barrier(5)

    def call():
        try:
            barrier.wait(timeout=10)
            answers.append(post(Client(), BODY, headers, key="parcel-77-out-for-delivery"))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [202] * 5
    assert len({a.json()["id"] for a in answers}) == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert BillingRecord.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_call_keeps_no_key_so_a_fixed_retry_goes_through(client, agent, order_update):
    headers = bearer(agent)
    refused = post(client, {**BODY, "parameters": {}}, headers, key="k2")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_parameters"
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, status, code",
    [
        ({**BODY, "to": "12"}, 422, "validation_error"),
        ({**BODY, "template": "nope"}, 409, "template_not_approved"),
        ({**BODY, "phone_number_id": "999"}, 404, "not_found"),
    ],
)
def test_errors_follow_the_contract(client, agent, order_update, body, status, code):
    response = post(client, body, bearer(agent))
    assert response.status_code == status and response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_finance_may_not_send_and_anonymous_is_401(client, finance, order_update):
    assert post(client, BODY, bearer(finance)).status_code == 403
    assert post(client, BODY, {}).status_code == 401


@pytest.mark.django_db
def test_an_agent_of_another_number_cannot_read_it(client, agent, outsider, order_update):
    created = post(client, BODY, bearer(agent)).json()
    assert client.get(f"{URL}/{created['id']}", **bearer(outsider)).status_code == 404


@pytest.mark.django_db
def test_keys_are_kept_a_day_and_forgotten_after_two(client, agent, order_update):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.services import idempotency_records_purge

    post(client, BODY, bearer(agent), key="k3")
    now = timezone.now()
    assert idempotency_records_purge(now=now + timedelta(hours=24)) == 0
    assert idempotency_records_purge(now=now + timedelta(hours=49)) == 1
