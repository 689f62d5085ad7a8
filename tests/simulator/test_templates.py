"""Template submission, review by webhook, listing, deletion, and sending templates with pricing."""

from __future__ import annotations

from datetime import UTC, datetime

from .helpers import CUSTOMER, PNID, WABA, expected_signature, wait_for


def template(name, body, category="UTILITY", language="de"):
    return {
        "name": name,
        "language": language,
        "category": category,
        "components": [
            {"type": "BODY", "text": body, "example": {"body_text": [["Anna", "#1042"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
        ],
    }


def submit(graph, receiver, body, waba=WABA) -> dict:
    response = graph.post(f"{waba}/message_templates", json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["status"] == "PENDING"
    wait_for(
        lambda: [
            c for c in receiver.changes("message_template_status_update") if c["message_template_name"] == body["name"]
        ],
        what="the template status webhook",
    )
    return created


def status_update(receiver, name) -> dict:
    return next(c for c in receiver.changes("message_template_status_update") if c["message_template_name"] == name)


def test_a_good_template_is_approved_by_a_signed_webhook(graph, receiver):
    created = submit(graph, receiver, template("order_update", "Hallo {{1}}, deine Bestellung {{2}} ist unterwegs."))

    update = status_update(receiver, "order_update")
    assert update["event"] == "APPROVED"
    assert update["reason"] == "NONE"
    assert update["message_template_id"] == int(created["id"])
    assert update["message_template_language"] == "de"
    assert update["message_template_category"] == "UTILITY"
    payload = next(p for p in receiver.payloads if p["entry"][0]["changes"][0]["field"] != "messages")
    assert payload["entry"][0]["id"] == WABA and isinstance(payload["entry"][0]["time"], int)
    for headers, body in receiver.requests:
        assert headers["x-hub-signature-256"] == expected_signature(body)
    listed = graph.get(f"{WABA}/message_templates", params={"name": "order_update"}).json()["data"]
    assert [(t["name"], t["status"]) for t in listed] == [("order_update", "APPROVED")]


def test_adjacent_variables_or_a_variable_at_the_edge_are_rejected_invalid_format(graph, receiver):
    submit(graph, receiver, template("adjacent", "Hallo {{1}}{{2}}, danke."))
    submit(graph, receiver, template("starts", "{{1}} ist unterwegs."))
    submit(graph, receiver, template("ends", "Deine Bestellung ist {{1}}"))

    for name in ("adjacent", "starts", "ends"):
        update = status_update(receiver, name)
        assert (update["event"], update["reason"]) == ("REJECTED", "INVALID_FORMAT"), name
        assert update["rejection_info"]["reason"]


def test_bad_submissions_are_refused_at_once(graph):
    bad_name = template("Order Update", "Hallo {{1}}.")
    no_body = {"name": "empty", "language": "de", "category": "UTILITY", "components": []}
    bad_category = template("x", "Hallo.", category="SERVICE")
    for body in (bad_name, no_body, bad_category):
        response = graph.post(f"{WABA}/message_templates", json=body)
        assert response.status_code == 400 and response.json()["error"]["code"] == 100


def test_list_pages_and_delete(graph, receiver):
    for n in range(3):
        graph.post(f"{WABA}/message_templates", json=template(f"notice_{n}", "Hallo, hier ist eine Nachricht."))
    first = graph.get(f"{WABA}/message_templates", params={"limit": 2}).json()
    rest = graph.get(f"{WABA}/message_templates", params={"limit": 2, "after": first["paging"]["cursors"]["after"]})
    names = [t["name"] for t in first["data"] + rest.json()["data"]]
    assert sorted(names) == ["notice_0", "notice_1", "notice_2"]
    assert graph.get("999/message_templates").json()["data"] == []  # another WABA sees none

    assert graph.delete(f"{WABA}/message_templates", params={"name": "notice_1"}).json() == {"success": True}
    left = [t["name"] for t in graph.get(f"{WABA}/message_templates").json()["data"]]
    assert sorted(left) == ["notice_0", "notice_2"]
    assert graph.delete(f"{WABA}/message_templates", params={"name": "notice_1"}).status_code == 400


def send_template(graph, name, params, language="de"):
    body_params = [{"type": "text", "text": p} for p in params]
    return graph.send(
        {
            "to": "+" + CUSTOMER,
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": language},
                "components": [{"type": "body", "parameters": body_params}],
            },
        }
    )


def priced(receiver, wamid) -> dict:
    return wait_for(lambda: [s for s in receiver.statuses(wamid) if "pricing" in s], what="pricing")[0]["pricing"]


def test_templates_are_priced_by_their_category(make_sim, receiver, graph):
    # A template outside any window: marketing and utility are both billable.
    submit(graph, receiver, template("promo", "Hallo {{1}}, 10% Rabatt auf {{2}}!", category="MARKETING"))
    submit(graph, receiver, template("shipping", "Hallo {{1}}, Bestellung {{2}} ist unterwegs."))

    marketing = send_template(graph, "promo", ["Anna", "Schuhe"])
    utility = send_template(graph, "shipping", ["Anna", "#1042"])

    assert marketing.status_code == 200 and marketing.json()["messages"][0]["message_status"] == "accepted"
    assert priced(receiver, marketing.json()["messages"][0]["id"]) == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "marketing",
    }
    assert priced(receiver, utility.json()["messages"][0]["id"])["type"] == "regular"
    assert priced(receiver, utility.json()["messages"][0]["id"])["category"] == "utility"


def test_a_utility_template_inside_the_window_was_free_before_october_2026(make_sim, receiver):
    september = datetime(2026, 9, 15, 12, tzinfo=UTC).timestamp()
    sim = make_sim(clock=lambda: september)
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Wo ist mein Paket?")
    graph = _graph_for(sim)
    submit(graph, receiver, template("shipping", "Hallo {{1}}, Bestellung {{2}} ist unterwegs."))

    wamid = send_template(graph, "shipping", ["Anna", "#1042"]).json()["messages"][0]["id"]

    assert priced(receiver, wamid) == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "utility",
    }


def test_a_utility_template_inside_the_window_is_charged_from_october_2026(make_sim, receiver):
    november = datetime(2026, 11, 2, 12, tzinfo=UTC).timestamp()
    sim = make_sim(clock=lambda: november)
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Wo ist mein Paket?")
    graph = _graph_for(sim)
    submit(graph, receiver, template("shipping", "Hallo {{1}}, Bestellung {{2}} ist unterwegs."))

    wamid = send_template(graph, "shipping", ["Anna", "#1042"]).json()["messages"][0]["id"]

    assert priced(receiver, wamid) == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "utility",
    }


def test_unapproved_unknown_language_and_wrong_parameter_count_are_refused(graph, receiver):
    submit(graph, receiver, template("rejected_one", "{{1}} kommt."))
    submit(graph, receiver, template("shipping", "Hallo {{1}}, Bestellung {{2}} ist unterwegs."))

    assert send_template(graph, "rejected_one", ["x"]).json()["error"]["code"] == 132001
    assert send_template(graph, "shipping", ["Anna", "#1"], language="en_US").json()["error"]["code"] == 132001
    mismatch = send_template(graph, "shipping", ["Anna"])
    assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == 132000


def test_marketing_to_a_customer_who_stopped_it_fails_131050(sim, graph, receiver):
    submit(graph, receiver, template("promo", "Hallo {{1}}, 10% Rabatt auf {{2}}!", category="MARKETING"))
    sim.customer_preference(phone_number_id=PNID, wa_id=CUSTOMER, value="stop")
    preference = wait_for(lambda: receiver.changes("user_preferences"), what="user_preferences")[0]
    assert preference["user_preferences"][0]["value"] == "stop"
    assert preference["user_preferences"][0]["category"] == "marketing_messages"

    wamid = send_template(graph, "promo", ["Anna", "Schuhe"]).json()["messages"][0]["id"]

    failed = wait_for(lambda: receiver.statuses(wamid), what="failed")[0]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131050


def _graph_for(sim):
    import requests

    from .helpers import TOKEN

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"

    class Graph:
        def post(self, path, **kwargs):
            return session.post(f"{sim.url}/v26.0/{path}", timeout=5, **kwargs)

        def get(self, path, **kwargs):
            return session.get(f"{sim.url}/v26.0/{path}", timeout=5, **kwargs)

        def send(self, payload):
            return self.post(f"{PNID}/messages", json={"messaging_product": "whatsapp", **payload})

    return Graph()


# --- Meta's verdicts on request (the /_sim/templates controls) ---------------------------------


def control(sim, action, **body):
    import requests

    return requests.post(f"{sim.url}/_sim/templates/{action}", json=body, timeout=5)


def last_change(receiver, field, count):
    return wait_for(lambda: receiver.changes(field)[count - 1 :] and receiver.changes(field)[-1], what=field)


def test_without_auto_review_a_template_waits_for_a_control(make_sim, receiver):
    sim = make_sim(auto_review_templates=False)
    graph = _graph_for(sim)
    created = graph.post(
        f"{WABA}/message_templates", json=template("order_update", "Hallo {{1}}, Bestellung {{2}}.")
    ).json()
    assert sim.scheduler._heap == []  # no review scheduled: it waits for a control
    assert sim.find_template(template_id=created["id"])["status"] == "PENDING"

    response = control(sim, "approve", name="order_update")
    assert response.status_code == 200 and response.json()["template"]["status"] == "APPROVED"
    update = last_change(receiver, "message_template_status_update", 1)
    assert (update["event"], update["message_template_id"]) == ("APPROVED", int(created["id"]))


def test_reject_pause_unpause_disable_post_metas_webhooks(make_sim, receiver):
    sim = make_sim(auto_review_templates=False)
    graph = _graph_for(sim)
    graph.post(f"{WABA}/message_templates", json=template("shipping", "Hallo {{1}}, Bestellung {{2}} ist da."))

    control(sim, "reject", name="shipping", reason="INVALID_FORMAT", detail="Adjacent.", recommendation="Add text.")
    rejected = last_change(receiver, "message_template_status_update", 1)
    assert rejected["reason"] == "INVALID_FORMAT"
    assert rejected["rejection_info"] == {"reason": "Adjacent.", "recommendation": "Add text."}

    control(sim, "approve", name="shipping", language="de", waba_id=WABA)
    control(sim, "pause", name="shipping")
    paused = last_change(receiver, "message_template_status_update", 3)
    assert paused["event"] == "PAUSED" and paused["other_info"]["title"] == "FIRST_PAUSE"
    refused = send_template(graph, "shipping", ["Anna", "#1"])
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 132015

    control(sim, "unpause", name="shipping")
    unpaused = last_change(receiver, "message_template_status_update", 4)
    assert (unpaused["event"], unpaused["other_info"]["title"]) == ("APPROVED", "UNPAUSE")
    assert send_template(graph, "shipping", ["Anna", "#1"]).status_code == 200

    control(sim, "disable", name="shipping")
    disabled = last_change(receiver, "message_template_status_update", 5)
    assert disabled["event"] == "DISABLED" and "disable_date" in disabled["disable_info"]
    assert send_template(graph, "shipping", ["Anna", "#1"]).json()["error"]["code"] == 132016

    control(sim, "status", name="shipping", event="IN_APPEAL")
    assert last_change(receiver, "message_template_status_update", 6)["event"] == "IN_APPEAL"
    assert control(sim, "status", name="shipping", event="SOMETHING").status_code == 400
    assert control(sim, "approve", name="nope").status_code == 404


def test_recategorise_with_notice_and_quality_change(make_sim, receiver):
    sim = make_sim(auto_review_templates=False)
    graph = _graph_for(sim)
    graph.post(f"{WABA}/message_templates", json=template("shipping", "Hallo {{1}}, Bestellung {{2}} ist da."))

    control(sim, "recategorise", name="shipping", category="MARKETING", notice=True)
    notice = last_change(receiver, "template_category_update", 1)
    assert (notice["new_category"], notice["correct_category"]) == ("UTILITY", "MARKETING")
    assert isinstance(notice["category_update_timestamp"], int)
    control(sim, "recategorise", name="shipping", category="MARKETING")
    done = last_change(receiver, "template_category_update", 2)
    assert (done["previous_category"], done["new_category"]) == ("UTILITY", "MARKETING")
    assert "correct_category" not in done

    control(sim, "quality", name="shipping", score="YELLOW")
    quality = last_change(receiver, "message_template_quality_update", 1)
    assert (quality["previous_quality_score"], quality["new_quality_score"]) == ("UNKNOWN", "YELLOW")
    listed = graph.get(f"{WABA}/message_templates").json()["data"][0]
    assert (listed["category"], listed["quality_score"]) == ("MARKETING", {"score": "YELLOW"})


def test_templates_made_in_metas_manager_and_edits(make_sim, receiver):
    sim = make_sim()
    graph = _graph_for(sim)
    body = {"waba_id": WABA, "name": "welcome", "language": "en_US", "category": "UTILITY"}
    made = control(sim, "add", components=[{"type": "BODY", "text": "Welcome!"}], **body).json()["template"]
    assert made["status"] == "APPROVED"
    import requests

    assert [t["name"] for t in requests.get(f"{sim.url}/_sim/templates", timeout=5).json()["templates"]] == ["welcome"]
    assert receiver.changes("message_template_status_update") == []  # made at Meta: no webhook

    edited = graph.post(made["id"], json={"components": [{"type": "BODY", "text": "Welcome, {{1}}"}]})
    assert edited.json() == {"success": True, "id": made["id"], "status": "PENDING"}
    update = last_change(receiver, "message_template_status_update", 1)
    assert update["event"] == "REJECTED"  # the automatic review: the body ends with a variable
    assert graph.post("123", json={}).json()["error"]["code"] == 100
