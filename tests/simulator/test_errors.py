"""Meta's error behaviour: auth, injected failures, the throughput limit, invalid requests."""

from __future__ import annotations

import requests

from .helpers import CUSTOMER, PNID, text_to, wait_for


def assert_meta_error(response, http_status: int, code: int) -> dict:
    assert response.status_code == http_status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    assert error["fbtrace_id"]
    return error


def test_without_a_token_or_with_a_wrong_one_the_answer_is_401_code_190(sim):
    url = f"{sim.url}/v26.0/{PNID}/messages"
    body = {"messaging_product": "whatsapp", **text_to("Hi")}
    missing = requests.post(url, json=body, timeout=5)
    wrong = requests.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert_meta_error(missing, 401, 190)
    assert_meta_error(wrong, 401, 190)
    assert "test-access-token" not in missing.text + wrong.text
    assert sim.sent == []


def test_fail_next_with_a_rate_error_answers_synchronously_then_recovers(sim, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    sim.fail_next(131056, count=2)

    first = graph.send(text_to("one"))
    second = graph.send(text_to("two"))
    third = graph.send(text_to("three"))

    assert_meta_error(first, 400, 131056)
    assert_meta_error(second, 400, 131056)
    assert third.status_code == 200
    assert [s["payload"]["text"]["body"] for s in sim.sent] == ["three"]


def test_fail_next_with_an_auth_error_is_a_401(sim, graph):
    sim.fail_next(190)
    assert_meta_error(graph.send(text_to("Hi")), 401, 190)


def test_fail_next_with_a_delivery_error_is_accepted_then_fails_by_webhook(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    sim.fail_next(131026)

    response = graph.send(text_to("Hello"))

    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    statuses = wait_for(lambda: receiver.statuses(wamid), what="the failed status")
    assert statuses[0]["status"] == "failed"
    assert statuses[0]["errors"][0]["code"] == 131026
    assert statuses[0]["errors"][0]["href"].startswith("https://developers.facebook.com/")


def test_fail_next_through_the_control_endpoint(sim, graph):
    assert requests.post(f"{sim.url}/_sim/fail_next", json={"code": 131000}, timeout=5).status_code == 200
    assert_meta_error(graph.send(text_to("Hi")), 500, 131000)


def test_over_the_rate_limit_sends_get_130429(sim, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Hi")
    sim.set_rate_limit(2)

    answers = [graph.send(text_to(f"message {n}")) for n in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_meta_error(answers[2], 400, 130429)
    # Mark-as-read calls do not count against the message throughput.
    inbound = sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="again")
    assert graph.send({"status": "read", "message_id": inbound}).status_code == 200


def test_invalid_requests_get_meta_parameter_errors(sim, graph):
    assert_meta_error(graph.send({"type": "text", "text": {"body": "no recipient"}}), 400, 131008)
    assert_meta_error(graph.send({"to": "+" + CUSTOMER, "type": "hologram", "hologram": {}}), 400, 100)
    assert_meta_error(graph.send({"to": "+" + CUSTOMER, "type": "text", "text": {}}), 400, 131008)
    assert_meta_error(graph.send({"to": "+" + CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}), 400, 100)
    no_product = graph.post(f"{PNID}/messages", json=text_to("Hi"))
    assert_meta_error(no_product, 400, 100)
    not_json = graph.post(f"{PNID}/messages", data=b"{", headers={"Content-Type": "application/json"})
    assert_meta_error(not_json, 400, 100)
    assert sim.sent == []
