"""An agent in a real Chromium: the thread updates live, replies appear, a closed window explains itself."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from conversations import services
from tests.conftest import PASSWORD
from tests.conversations.conftest import FakeClient, inbound, profile

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_client(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr("whatsapp.client.get_client", lambda: client)
    return client


def customer_writes(number, text: str, *, hours_ago: float = 0.1, wa_id: str = "4915112345678", name="Jana Schmidt"):
    """The receive service, as webhook processing calls it, in its own thread.

    Playwright's sync API keeps an event loop in the test thread, where the on-commit push
    (async_to_sync) cannot run; a worker thread is what webhook processing is in production.
    """
    result = {}

    def run():
        try:
            result["message"] = services.inbound_message_receive(
                number=number,
                message=inbound(at=timezone.now() - timedelta(hours=hours_ago), wa_id=wa_id, text=text),
                profile=profile(wa_id=wa_id, name=name),
            )
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    return result["message"]


def sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")


def test_a_new_message_appears_live_and_a_reply_shows_in_the_thread(live_asgi, page, agent, number, fake_client):
    conversation = customer_writes(number, "Hallo, ist mein Paket schon los?").conversation
    sign_in(page, live_asgi, agent)
    page.click(f"#conv-row-{conversation.pk} a")
    page.wait_for_url(f"{live_asgi}/inbox/c/{conversation.pk}/")
    thread = page.locator(f"#thread-{conversation.pk}-messages")
    expect(thread).to_contain_text("Hallo, ist mein Paket schon los?")
    expect(page.locator("body.live")).to_have_count(1)  # the socket is open

    customer_writes(number, "Die Bestellnummer ist 4711.")
    expect(thread.locator(".msg-in").last).to_contain_text("Die Bestellnummer ist 4711.")  # no reload
    expect(page.locator(f"#conv-row-{conversation.pk} .snippet")).to_contain_text("4711")

    page.fill(f"#text-{conversation.pk}", "Ja, es ist heute rausgegangen.")
    page.click(f"#thread-{conversation.pk}-composer button[type=submit]")
    reply = thread.locator(".msg-out").last
    expect(reply).to_contain_text("Ja, es ist heute rausgegangen.")
    expect(reply.locator(".ticks-sent")).to_have_count(1)  # delivered to the (fake) Cloud API: one tick
    expect(page.locator(f"#text-{conversation.pk}")).to_have_value("")
    assert thread.locator(".msg-out").count() == 1  # the POST answer and the live push did not duplicate it
    assert [payload["text"]["body"] for _id, payload in fake_client.sent] == ["Ja, es ist heute rausgegangen."]


def test_outside_the_window_the_composer_explains_instead_of_sending(live_asgi, page, agent, number):
    conversation = customer_writes(number, "Können Sie mich zurückrufen?", hours_ago=30).conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    composer = page.locator(f"#thread-{conversation.pk}-composer")
    expect(composer.locator(".window-closed-note")).to_contain_text("24-hour window closed at")
    expect(composer.locator(".window-closed-note")).to_contain_text("only approved templates can be sent now.")
    expect(composer.locator(".reply-form")).to_have_count(0)
    expect(page.locator(f"#thread-{conversation.pk}-header .window-closed")).to_have_text("window closed")

    # The customer writes again: the window opens, and the text box comes back without a reload.
    customer_writes(number, "Hallo?")
    expect(composer.locator(".reply-form textarea")).to_be_visible()
