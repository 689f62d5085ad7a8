"""Sending through the simulator's Graph API and the status webhooks that follow, over real HTTP."""

from __future__ import annotations

import time

import requests

from .helpers import CUSTOMER, PNID, WABA, expected_signature, text_to, wait_for


def test_a_customer_message_arrives_as_a_signed_inbound_webhook(sim, receiver):
    wamid = sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, name="Anna", text="Hallo!")

    wait_for(lambda: receiver.messages(), what="the inbound webhook")
    headers, body = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    assert headers["x-hub-signature-256"] == expected_signature(body)
    payload = receiver.payloads[0]
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert entry["id"] == WABA
    value = entry["changes"][0]["value"]
    assert entry["changes"][0]["field"] == "messages"
    assert value["metadata"] == {"display_phone_number": "49301234567", "phone_number_id": PNID}
    assert value["contacts"][0]["wa_id"] == CUSTOMER
    assert value["contacts"][0]["profile"] == {"name": "Anna"}
    assert value["contacts"][0]["user_id"].startswith("DE.")
    message = value["messages"][0]
    assert message["id"] == wamid and wamid.startswith("wamid.")
    assert message["from"] == CUSTOMER
    assert message["from_user_id"] == value["contacts"][0]["user_id"]
    assert message["type"] == "text" and message["text"] == {"body": "Hallo!"}
    assert abs(int(message["timestamp"]) - time.time()) < 5


def test_a_reply_is_answered_with_a_wamid_then_sent_delivered_read_signed_and_priced(make_sim, receiver, graph):
    sim = make_sim(auto_read=True)
    graph.url = f"{sim.url}/v26.0"
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, name="Anna", text="Wo ist mein Paket?")

    response = graph.send(text_to("Es ist unterwegs."))

    assert response.status_code == 200
    data = response.json()
    wamid = data["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": "+" + CUSTOMER, "wa_id": CUSTOMER}]
    assert sim.sent[-1]["wamid"] == wamid and sim.sent[-1]["payload"]["text"]["body"] == "Es ist unterwegs."
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 3 and receiver.statuses(wamid), what="3 statuses")
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for headers, body in receiver.requests:
        assert headers["x-hub-signature-256"] == expected_signature(body)
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER
        assert status["timestamp"].isdigit()
        assert "conversation" not in status  # omitted from v24 on
    priced = [s for s in statuses if "pricing" in s]
    assert len(priced) == 1 and priced[0]["status"] == "delivered"
    assert priced[0]["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }


def test_read_comes_only_once_the_customer_opens_the_chat(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, name="Anna", text="Hi")
    wamid = graph.send(text_to("Hello Anna")).json()["messages"][0]["id"]
    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "delivered"], what="delivered")
    assert sim.wait_idle()
    assert sim.status_of(wamid) == "delivered"
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent", "delivered"]

    # The phone page polls with open=1 while the chat is on screen.
    page = requests.get(f"{sim.url}/_sim/chat", params={"phone_number_id": PNID, "wa_id": CUSTOMER, "open": "1"})
    assert page.status_code == 200

    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "read"], what="read")
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent", "delivered", "read"]
    assert "pricing" not in receiver.statuses(wamid)[-1]


def test_customer_read_through_the_python_api(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    wamid = graph.send(text_to("Hello")).json()["messages"][0]["id"]
    sim.customer_read(wamid)
    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "read"], what="read")


def test_a_free_form_message_outside_the_window_is_accepted_then_fails_131047(sim, receiver, graph):
    yesterday = time.time() - 25 * 3600
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="old message", timestamp=yesterday)

    response = graph.send(text_to("Sorry for the late answer"))

    assert response.status_code == 200  # Meta accepts, then fails asynchronously
    wamid = response.json()["messages"][0]["id"]
    statuses = wait_for(lambda: receiver.statuses(wamid), what="the failed status")
    assert [s["status"] for s in statuses] == ["failed"]
    error = statuses[0]["errors"][0]
    assert error["code"] == 131047
    assert error["title"] == error["message"] == "Re-engagement message"
    assert "24 hours" in error["error_data"]["details"]
    assert sim.status_of(wamid) == "failed"


def test_a_customer_who_never_wrote_gets_131047_for_free_form(sim, receiver, graph):
    wamid = graph.send(text_to("Hello stranger", to="+447700900123")).json()["messages"][0]["id"]
    statuses = wait_for(lambda: receiver.statuses(wamid), what="the failed status")
    assert statuses[0]["status"] == "failed" and statuses[0]["errors"][0]["code"] == 131047


def test_a_customer_message_reopens_the_window(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="old", timestamp=time.time() - 30 * 3600)
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="new")
    wamid = graph.send(text_to("Welcome back")).json()["messages"][0]["id"]
    wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "delivered"], what="delivered")
    assert all(s["status"] != "failed" for s in receiver.statuses(wamid))


def test_mark_read_and_typing_indicator(sim, receiver, graph):
    first = sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="one")
    second = sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="two")

    response = graph.send({"status": "read", "message_id": second, "typing_indicator": {"type": "text"}})

    assert response.status_code == 200 and response.json() == {"success": True}
    chat = requests.get(f"{sim.url}/_sim/chat", params={"phone_number_id": PNID, "wa_id": CUSTOMER}).json()["chat"]
    assert {i["wamid"]: i["status"] for i in chat["items"]} == {first: "read", second: "read"}
    assert chat["typing"] is True
    # A reply ends the typing indicator.
    graph.send(text_to("Here I am"))
    chat = requests.get(f"{sim.url}/_sim/chat", params={"phone_number_id": PNID, "wa_id": CUSTOMER}).json()["chat"]
    assert chat["typing"] is False


def test_mark_read_of_an_unknown_wamid_is_refused(graph):
    response = graph.send({"status": "read", "message_id": "wamid.nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 131009


def test_interactive_and_button_replies_carry_the_context(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    interactive = {
        "type": "button",
        "body": {"text": "Was the answer helpful?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]},
    }
    out = graph.send({"to": "+" + CUSTOMER, "type": "interactive", "interactive": interactive}).json()
    asked = out["messages"][0]["id"]

    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, reply={"id": "yes", "title": "Yes"})
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, button="Stop promotions")

    messages = wait_for(lambda: len(receiver.messages()) == 3 and receiver.messages(), what="3 inbound messages")
    reply, tap = messages[1], messages[2]
    assert reply["type"] == "interactive"
    assert reply["interactive"] == {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}
    assert reply["context"] == {"from": "49301234567", "id": asked}
    assert tap["type"] == "button" and tap["button"] == {"payload": "Stop promotions", "text": "Stop promotions"}


def test_a_reaction_is_sent_and_gets_only_sent(sim, receiver, graph):
    inbound = sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Thanks!")
    response = graph.send(
        {"to": "+" + CUSTOMER, "type": "reaction", "reaction": {"message_id": inbound, "emoji": "👍"}}
    )
    wamid = response.json()["messages"][0]["id"]
    wait_for(lambda: receiver.statuses(wamid), what="sent")
    assert sim.wait_idle()
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent"]


def test_the_customer_sends_an_image_the_business_can_fetch(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, image=True)
    message = wait_for(lambda: receiver.messages(), what="the image message")[0]
    assert message["type"] == "image"
    info = graph.get(message["image"]["id"]).json()
    assert info["mime_type"] == "image/png"
    content = requests.get(info["url"], headers={"Authorization": graph_token()}, timeout=5).content
    assert content.startswith(b"\x89PNG")


def test_a_refused_webhook_is_retried(sim, receiver):
    receiver.status = 500
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    wait_for(lambda: len(receiver.requests) >= 2, what="a retry")
    receiver.status = 200
    wait_for(lambda: any(a["status"] == 200 for a in sim.webhook_log), timeout=8, what="a delivered retry")
    bodies = {body for _headers, body in receiver.requests}
    assert len(bodies) == 1  # the same bytes, redelivered


def graph_token() -> str:
    from .helpers import TOKEN

    return f"Bearer {TOKEN}"


def test_the_demo_customers_windows_count_from_what_seed_demo_stored(make_sim, receiver):
    """`make run` seeds the demo's chats straight into the database; the simulator, which never saw
    those customers write, refused a reply to a thread the inbox shows open (131047). Now it counts
    each demo customer's window from their last message in whatsapp/demo.py."""
    from whatsapp.demo import DEMO_NUMBERS
    from whatsapp.management.commands.simulator import demo_windows_opened

    from .conftest import TOKEN

    sim = make_sim(numbers={pnid: {"display_phone_number": d, "waba_id": w} for pnid, d, w, _n in DEMO_NUMBERS})
    assert demo_windows_opened(sim) == 7
    support_de = DEMO_NUMBERS[0][0]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"

    def reply(to: str) -> list[dict]:
        body = {"messaging_product": "whatsapp", **text_to("Hallo!", to=to)}
        wamid = session.post(f"{sim.url}/v26.0/{support_de}/messages", json=body, timeout=5).json()["messages"][0]["id"]
        return wait_for(lambda: receiver.statuses(wamid), what="a status")

    assert reply("+4915112345678")[0]["status"] == "sent"  # Jana Schmidt wrote an hour ago
    assert reply("+4917612345670")[0]["errors"][0]["code"] == 131047  # Max Müller, 30 hours ago
