"""The Cloud API failing, end to end through the delivery task, over real HTTP to the simulator
(not the FakeClient seam): Meta answering 500, 130429 (too fast), too slowly (our timeout) or
not at all, and 190 (the access token refused).

What must hold: transient refusals are retried with backoff and the message goes out exactly
once; the thread says truthfully what is happening meanwhile; a message that may have arrived is
never sent twice; a refused token fails the message with a plain reason, stops the number and
tells the admins on their pages.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import pacing, services, tasks
from conversations.exceptions import ConversationError
from conversations.models import BusinessNumber, Message
from conversations.services import delivery
from tests.conversations.conftest import receive
from tests.simulator.helpers import Receiver, wait_for
from whatsapp.simulator.server import Simulator

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]


@pytest.fixture
def meta(number, settings):
    """The simulator as Meta on a real port; the inbox's client talks to it over HTTP.

    A 130429 slows the number's pacing line in Redis for a while: forgotten before and after, so
    no other test waits for a slot this test's refusals took away."""
    pacing.reset(number.phone_number_id)
    receiver = Receiver().start()  # where the simulator posts its status webhooks
    sim = Simulator(
        webhook_url=receiver.url,
        app_secret=settings.WHATSAPP_APP_SECRET,
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        status_delay=0.0,
        numbers={
            number.phone_number_id: {"display_phone_number": number.display_phone_number, "waba_id": number.waba_id}
        },
    ).start(port=0)
    settings.WHATSAPP_GRAPH_URL = sim.url
    yield sim
    sim.stop()
    receiver.stop()
    pacing.reset(number.phone_number_id)


@pytest.fixture
def conversation(number):
    return receive(number, at=timezone.now() - timedelta(minutes=5)).conversation


@pytest.fixture
def backoffs(monkeypatch):
    """The countdowns the task chose between tries (Celery runs eagerly here, so nothing waits)."""
    chosen: list[float] = []
    real = delivery.backoff_delay

    def record(*args, **kwargs):
        chosen.append(real(*args, **kwargs))
        return chosen[-1]

    monkeypatch.setattr(delivery, "backoff_delay", record)
    return chosen


def deliver(conversation, agent, text="Hallo"):
    message = services.message_send_text(conversation=conversation, sender=agent, text=text)
    tasks.message_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    return message


def sends_of(meta, text) -> list[dict]:
    return [s for s in meta.sent if s["payload"].get("text", {}).get("body") == text]


def test_a_meta_500_is_retried_then_sent_once(meta, conversation, agent, thread_notes, backoffs):
    meta.fail_next(131000, count=2)  # "Something went wrong", HTTP 500

    message = deliver(conversation, agent, "after two 500s")

    assert meta.refused == {131000: 2}
    assert message.status == Message.Status.SENT and message.wamid
    assert len(sends_of(meta, "after two 500s")) == 1
    assert thread_notes == [
        "WhatsApp is busy; trying again (attempt 2 of 7).",
        "WhatsApp is busy; trying again (attempt 3 of 7).",
    ]
    assert len(backoffs) == 2 and all(b > 0 for b in backoffs)


def test_too_fast_130429_is_retried_with_backoff_then_sent(meta, conversation, agent, thread_notes, backoffs):
    meta.fail_next(130429, count=3)

    message = deliver(conversation, agent, "after 130429")

    assert meta.refused == {130429: 3}
    assert message.status == Message.Status.SENT
    assert len(sends_of(meta, "after 130429")) == 1
    assert len(thread_notes) == 3
    # Exponential backoff (with jitter, so compare the bounds each try may reach).
    assert len(backoffs) == 3 and all(b > 0 for b in backoffs)


def test_500s_that_do_not_stop_end_in_a_truthful_failure(meta, conversation, agent, thread_notes, backoffs):
    meta.fail_next(131000, count=tasks.MAX_RETRIES + 1)

    message = deliver(conversation, agent, "never")

    assert message.status == Message.Status.FAILED and message.error_code == 131000
    assert f"Tried {tasks.MAX_RETRIES + 1} times since" in message.error_details
    assert sends_of(meta, "never") == []
    assert len(thread_notes) == tasks.MAX_RETRIES


def test_unreachable_says_so_while_retrying_and_sends_once_when_back(
    meta, conversation, agent, thread_notes, backoffs, settings, monkeypatch
):
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:1"  # nothing listens: refused, certainly not delivered
    noting = delivery.message_requeue

    def requeue(*, message_id, note=""):
        noting(message_id=message_id, note=note)
        if len(thread_notes) == 2:
            settings.WHATSAPP_GRAPH_URL = meta.url  # Meta is reachable again for the third try

    monkeypatch.setattr(delivery, "message_requeue", requeue)

    message = deliver(conversation, agent, "when you are back")

    assert thread_notes == [
        "WhatsApp could not be reached; trying again (attempt 2 of 7).",
        "WhatsApp could not be reached; trying again (attempt 3 of 7).",
    ]
    assert message.status == Message.Status.SENT
    assert len(sends_of(meta, "when you are back")) == 1


def test_a_timeout_is_never_sent_twice(meta, conversation, agent, thread_notes, settings):
    """Meta took the message but answered after our timeout: it may have arrived, so it is not
    sent again (a second send would reach the customer twice); the agent is told plainly."""
    settings.WHATSAPP_HTTP_TIMEOUT = 0.5
    meta.delay_next(2.0)

    message = deliver(conversation, agent, "slow Meta")

    assert message.status == Message.Status.FAILED
    assert message.error_title == "No answer from WhatsApp"
    assert "may or may not have reached the customer" in message.error_details
    assert "not sent again automatically" in message.error_details
    assert thread_notes == []  # no retry
    time.sleep(2.0)  # the slow answer has come back by now; nothing else went out
    assert len(sends_of(meta, "slow Meta")) == 1


def test_a_refused_token_fails_plainly_stops_the_number_and_tells_admins(
    meta, conversation, agent, number, admin_user, client, settings
):
    meta.access_token = "a-token-meta-no-longer-accepts"  # every call now answers 401, code 190

    message = deliver(conversation, agent, "token gone")

    assert message.status == Message.Status.FAILED and message.error_code == 190
    assert message.error_details == "The WhatsApp access token expired or is invalid; an admin must renew it."
    assert sends_of(meta, "token gone") == []
    number.refresh_from_db()
    assert number.stopped_at is not None

    # The next reply is refused at once, saying why, and nothing more goes to Meta.
    with pytest.raises(ConversationError, match="stopped"):
        deliver(conversation, agent, "after the stop")
    assert meta.sent == []

    # Admins see it on every page until the number sends again.
    client.force_login(admin_user)
    for url in ("/templates/", "/team/"):
        page = client.get(url).content.decode()
        assert "number-stopped" in page, url
        assert "access token" in page, url
    BusinessNumber.objects.filter(pk=number.pk).update(stopped_at=None, stopped_reason="")
    assert "number-stopped" not in client.get("/templates/").content.decode()


def test_the_banner_is_for_admins_only(number, agent, client):
    BusinessNumber.objects.filter(pk=number.pk).update(stopped_at=timezone.now(), stopped_reason="token refused")
    client.force_login(agent)
    assert "number-stopped" not in client.get("/inbox/").content.decode()


def test_the_simulator_delay_control_answers_late(meta):
    import requests

    requests.post(f"{meta.url}/_sim/delay_next", json={"seconds": 0.3}, timeout=5).raise_for_status()
    wait_for(lambda: meta._delay_queue, what="the delay queued")
    assert list(meta._delay_queue) == [0.3]
