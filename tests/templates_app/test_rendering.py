"""One render for the preview and the send payload: positional, named, URL suffix, every problem."""

from __future__ import annotations

from templates_app.rendering import render

from .conftest import ORDER_UPDATE, SHIPPING


def positional(parameters, **kwargs):
    return render(components=SHIPPING["components"], parameter_format="positional", parameters=parameters, **kwargs)


def named(parameters, **kwargs):
    return render(components=ORDER_UPDATE["components"], parameter_format="named", parameters=parameters, **kwargs)


def fields(rendered):
    return [p["field"] for p in rendered.problems]


def test_positional_parameters_in_order():
    out = positional({"body": ["Anna", "#1042"]})
    assert out.problems == []
    assert out.send_components == [
        {"type": "body", "parameters": [{"type": "text", "text": "Anna"}, {"type": "text", "text": "#1042"}]}
    ]
    assert out.text == "Hello Anna, your order #1042 is on its way."
    assert out.parameters == {"body": ["Anna", "#1042"]}


def test_named_parameters_with_their_names_and_the_url_suffix():
    out = named(
        {
            "header": {"order_id": "1042"},
            "body": {"first_name": "Anna"},
            "buttons": [{"index": 1, "parameters": ["1042"]}],
        }
    )
    assert out.problems == []
    assert out.send_components == [
        {"type": "header", "parameters": [{"type": "text", "parameter_name": "order_id", "text": "1042"}]},
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Anna"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "1042"}]},
    ]
    assert out.text.splitlines() == [
        "Bestellung 1042",
        "Hallo Anna, deine Bestellung ist unterwegs.",
        "Antworte STOP zum Abmelden",
        "Keine Werbung",
        "Verfolgen",
    ]
    assert out.header == "Bestellung 1042" and out.footer == "Antworte STOP zum Abmelden"
    assert out.buttons[1].url == "https://shop.example/t/1042"


def test_a_quick_reply_payload_is_sent_when_given():
    out = named(
        {
            "header": {"order_id": "1"},
            "body": {"first_name": "A"},
            "buttons": [{"index": 0, "parameters": ["STOP_PROMO"]}, {"index": 1, "parameters": ["1"]}],
        }
    )
    assert out.problems == []
    assert {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": "STOP_PROMO"}],
    } in out.send_components


def test_missing_parameters_are_each_named():
    out = positional({"body": ["Anna"]})
    assert fields(out) == ["body.2"]
    assert "{{2}}" in out.problems[0]["message"]
    assert positional(None).problems and fields(positional(None)) == ["body.1", "body.2"]
    assert fields(positional({"body": ["Anna", "  "]})) == ["body.2"]


def test_extra_parameters_are_refused():
    assert fields(positional({"body": ["a", "b", "c"]})) == ["body"]
    assert "footer" in fields(positional({"body": ["a", "b"], "footer": ["x"]}))
    assert "header" in fields(positional({"body": ["a", "b"], "header": ["x"]}))
    assert "buttons.0" in fields(positional({"body": ["a", "b"], "buttons": [{"index": 0, "parameters": ["x"]}]}))


def test_wrong_names_say_which_names_exist():
    out = named(
        {"header": {"order_id": "1"}, "body": {"firstname": "Anna"}, "buttons": [{"index": 1, "parameters": ["1"]}]}
    )
    assert sorted(fields(out)) == ["body.first_name", "body.firstname"]
    wrong = next(p for p in out.problems if p["field"] == "body.firstname")
    assert "{{first_name}}" in wrong["message"]


def test_wrong_shapes_are_problems_not_crashes():
    assert "body" in fields(positional({"body": {"1": "Anna"}}))
    assert "body" in fields(named({"body": ["Anna"]}))
    assert "parameters" in fields(positional(["Anna"]))
    assert "body.1" in fields(positional({"body": [{"x": 1}, "b"]}))
    assert "buttons" in fields(named({"buttons": "1042"}))


def test_too_long():
    assert fields(positional({"body": ["a" * 1000, "b"]})) == ["body"]
    header_too_long = named(
        {"header": {"order_id": "x" * 60}, "body": {"first_name": "A"}, "buttons": [{"index": 1, "parameters": ["1"]}]}
    )
    assert fields(header_too_long) == ["header"]
    assert fields(positional({"body": ["line\nbreak", "b"]})) == ["body.1"]
    auth = render(
        components=SHIPPING["components"],
        parameter_format="positional",
        parameters={"body": ["a" * 16, "b"]},
        category="AUTHENTICATION",
    )
    assert fields(auth) == ["body.1"]
    url = named(
        {
            "header": {"order_id": "1"},
            "body": {"first_name": "A"},
            "buttons": [{"index": 1, "parameters": ["x" * 2000]}],
        }
    )
    assert fields(url) == ["buttons.1"]


def test_a_url_button_without_its_suffix():
    out = named({"header": {"order_id": "1"}, "body": {"first_name": "A"}})
    assert fields(out) == ["buttons.1"]
    assert "https://shop.example/t/" in out.problems[0]["message"]


def test_the_preview_fills_empty_fields_with_the_examples():
    out = named({"body": {"first_name": ""}}, use_examples=True)
    assert out.problems == []
    assert out.text.splitlines()[:2] == ["Bestellung 1042", "Hallo Anna, deine Bestellung ist unterwegs."]
    assert out.buttons[1].url == "https://shop.example/t/1042"
    typed = named({"body": {"first_name": "Jana"}}, use_examples=True)
    assert "Hallo Jana," in typed.text


def test_media_header_needs_a_link_or_id_when_sending():
    components = [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Look at this."}]
    assert fields(render(components=components, parameter_format="positional", parameters={})) == ["header"]
    out = render(
        components=components, parameter_format="positional", parameters={"header": ["https://x.example/a.png"]}
    )
    assert out.problems == []
    assert out.send_components == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.example/a.png"}}]}
    ]
    assert render(components=components, parameter_format="positional", parameters={}, use_examples=True).problems == []


def test_copy_code_needs_its_code():
    components = [
        {"type": "BODY", "text": "Your discount."},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
    ]
    assert fields(render(components=components, parameter_format="positional", parameters={})) == ["buttons.0"]
    out = render(
        components=components,
        parameter_format="positional",
        parameters={"buttons": [{"index": 0, "parameters": ["SAVE20"]}]},
    )
    assert out.send_components == [
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE20"}],
        }
    ]
