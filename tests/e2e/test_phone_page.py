"""The simulator's customer phone page in a real Chromium: write as the customer, see blue ticks."""

from __future__ import annotations

import pytest
import requests

from tests.simulator.helpers import APP_SECRET, PNID, TOKEN, WABA, Receiver, expected_signature, wait_for
from whatsapp.simulator.server import Simulator

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def sim(receiver):
    sim = Simulator(
        webhook_url=receiver.url,
        app_secret=APP_SECRET,
        access_token=TOKEN,
        status_delay=0.1,
        numbers={PNID: {"display_phone_number": "+49 30 1234567", "waba_id": WABA}},
    ).start(port=0)
    yield sim
    sim.stop()


def open_chat(page, sim, wa_id="+49 151 12345678", name="Anna Schmidt"):
    page.goto(f"{sim.url}/")
    page.fill("#wa-id", wa_id)
    page.fill("#name", name)
    page.fill("#pnid", PNID)
    page.click("#open-chat")
    page.wait_for_selector("#composer")


def reply(sim, text, to="+4915112345678"):
    response = requests.post(
        f"{sim.url}/v26.0/{PNID}/messages",
        json={"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"][0]["id"]


def test_typing_a_message_posts_a_signed_inbound_webhook(page, sim, receiver):
    open_chat(page, sim)
    page.fill("#text", "Hallo, wo ist mein Paket?")
    page.press("#text", "Enter")

    message = wait_for(lambda: receiver.messages(), what="the inbound webhook")[0]
    assert message["type"] == "text" and message["text"]["body"] == "Hallo, wo ist mein Paket?"
    assert message["from"] == "4915112345678"
    headers, body = receiver.requests[0]
    assert headers["x-hub-signature-256"] == expected_signature(body)
    assert receiver.changes()[0]["contacts"][0]["profile"]["name"] == "Anna Schmidt"
    # The customer's own bubble shows up, with two grey ticks once the inbox accepted it.
    mine = page.locator(f'.msg.me[data-wamid="{message["id"]}"]')
    mine.locator('.ticks[data-status="delivered"]').wait_for()
    assert "wo ist mein Paket" in mine.inner_text()


def test_a_business_reply_shows_two_blue_ticks_on_the_open_chat(page, sim, receiver):
    open_chat(page, sim)
    page.fill("#text", "Hallo!")
    page.press("#text", "Enter")
    wait_for(lambda: receiver.messages(), what="the inbound webhook")

    wamid = reply(sim, "Guten Tag, Ihr Paket ist unterwegs.")

    bubble = page.locator(f'.msg.biz[data-wamid="{wamid}"]')
    bubble.locator('.ticks.read[data-status="read"]').wait_for()
    assert "Ihr Paket ist unterwegs" in bubble.inner_text()
    color = bubble.locator(".ticks").evaluate("node => getComputedStyle(node).color")
    assert color == "rgb(83, 189, 235)"  # WhatsApp's read blue
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 3 and receiver.statuses(wamid), what="3 statuses")
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]


def test_a_reply_to_a_closed_chat_stays_delivered_until_it_is_opened(page, sim, receiver):
    sim.customer_message(phone_number_id=PNID, wa_id="4915112345678", name="Anna Schmidt", text="Hi")
    wamid = reply(sim, "Hello Anna")
    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "delivered"], what="delivered")
    assert sim.status_of(wamid) == "delivered"

    open_chat(page, sim)

    page.locator(f'.msg.biz[data-wamid="{wamid}"] .ticks[data-status="read"]').wait_for()
    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "read"], what="read")


def test_a_photo_and_the_stop_promotions_quick_reply(page, sim, receiver):
    open_chat(page, sim)
    page.click("#send-image")
    page.click("#stop-promos")

    messages = wait_for(lambda: len(receiver.messages()) == 2 and receiver.messages(), what="2 inbound messages")
    image, tap = messages
    assert image["type"] == "image" and image["image"]["mime_type"] == "image/png"
    info = requests.get(
        f"{sim.url}/v26.0/{image['image']['id']}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).json()
    content = requests.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).content
    assert content.startswith(b"\x89PNG")
    assert tap["type"] == "button" and tap["button"] == {"payload": "STOP_PROMO", "text": "Stop promotions"}
    page.locator(".msg.me img").wait_for()
