"""The whole product over real HTTP: customer phone page -> simulator -> signed webhook -> inbox,
and the agent's reply -> Cloud API client -> simulator -> status webhooks -> ticks on both screens.

Nothing is faked but Meta, and Meta is the simulator speaking HTTP.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def simulator(live_simulator):
    return live_simulator()


def test_a_customer_writes_the_agent_replies_and_both_see_blue_ticks(live_asgi, simulator, browser, agent, number):
    customer = browser.new_context().new_page()
    agent_page = browser.new_context(timezone_id="Europe/Berlin").new_page()
    for page in (customer, agent_page):
        page.set_default_timeout(15_000)

    # The agent is signed in with the inbox open before the customer writes.
    agent_page.goto(f"{live_asgi}/login/")
    agent_page.fill("#id_username", agent.username)
    agent_page.fill("#id_password", PASSWORD)
    agent_page.click("button[type=submit]")
    agent_page.wait_for_url(f"{live_asgi}/inbox/")
    expect(agent_page.locator("body.live")).to_have_count(1)

    # The customer writes on the phone page; the simulator posts a signed webhook to the inbox.
    customer.goto(f"{simulator.url}/")
    customer.fill("#wa-id", "+49 151 12345678")
    customer.fill("#name", "Anna Schmidt")
    customer.fill("#pnid", number.phone_number_id)
    customer.click("#open-chat")
    customer.fill("#text", "Hallo, wo ist mein Paket?")
    customer.press("#text", "Enter")

    # It is stored, and appears in the agent's open list without a reload.
    row = agent_page.locator("#conversation-rows .conv-row", has_text="Hallo, wo ist mein Paket?")
    expect(row).to_have_count(1)
    inbound = Message.objects.get(direction="in")
    assert inbound.text == "Hallo, wo ist mein Paket?"
    assert inbound.conversation.contact.profile_name == "Anna Schmidt"

    # The agent opens the thread and replies inside the window.
    row.locator("a").first.click()
    conversation_id = inbound.conversation_id
    agent_page.fill(f"#text-{conversation_id}", "Guten Tag Anna, Ihr Paket ist heute unterwegs.")
    agent_page.click(f"#thread-{conversation_id}-composer button[type=submit]")

    # Delivered through the real client to the simulator; its status webhooks come back signed.
    bubble = customer.locator(".msg.biz", has_text="Ihr Paket ist heute unterwegs")
    expect(bubble.locator('.ticks.read[data-status="read"]')).to_have_count(1)
    reply = agent_page.locator(f"#thread-{conversation_id}-messages .msg-out").last
    expect(reply).to_contain_text("Ihr Paket ist heute unterwegs")
    expect(reply.locator(".ticks-read")).to_have_count(1)

    outbound = Message.objects.get(direction="out")
    assert outbound.status == Message.Status.READ
    assert outbound.wamid and outbound.wamid.startswith("wamid.")
    assert outbound.sent_at and outbound.delivered_at and outbound.read_at
    assert [sent["to"].lstrip("+") for sent in simulator.sent if sent.get("type") == "text"] == ["4915112345678"]
