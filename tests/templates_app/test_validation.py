"""Every rule Meta would reject a template for: each accepted case and each refused case."""

from __future__ import annotations

import pytest

from templates_app.validation import template_warnings, validate_template

from .conftest import ORDER_UPDATE, SHIPPING, tpl


def body(text, examples=None, **extra):
    part = {"type": "BODY", "text": text, **extra}
    if examples is not None:
        part["example"] = {"body_text": [examples]}
    return part


def with_components(*components, base=SHIPPING, **fields):
    return tpl(base, components=list(components), **fields)


def buttons(*items):
    return {"type": "BUTTONS", "buttons": list(items)}


QR = {"type": "QUICK_REPLY", "text": "Stop promotions"}
URL = {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}", "example": ["https://shop.example/t/1"]}
PLAIN_URL = {"type": "URL", "text": "Shop", "url": "https://shop.example/"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+4930123456"}
COPY = {"type": "COPY_CODE", "example": "SAVE10"}
GOOD_BODY = body("Hello {{1}}, thanks.", ["Anna"])


def fields(data):
    return [p["field"] for p in validate_template(data)]


def test_the_examples_from_metas_documentation_are_valid():
    assert validate_template(tpl(SHIPPING)) == []
    assert validate_template(tpl(ORDER_UPDATE)) == []


ACCEPTED = {
    "name with digits and underscores": tpl(name="order_update_2"),
    "name of 512 characters": tpl(name="a" * 512),
    "language with region": tpl(language="pt_BR"),
    "language with hyphen (webhook spelling)": tpl(language="en-US"),
    "marketing": tpl(category="MARKETING"),
    "authentication": tpl(category="AUTHENTICATION", components=[body("Your code is {{1}}.", ["123456"])]),
    "parameter format omitted": {k: v for k, v in SHIPPING.items() if k != "parameter_format"},
    "body of 1024 characters": with_components(body("x" * 1024)),
    "header text of 60 with one variable": with_components(
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}" + "x" * 49, "example": {"header_text": ["1"]}},
        GOOD_BODY,
    ),
    "image header with an example handle": with_components(
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1h"]}}, GOOD_BODY
    ),
    "location header in utility": with_components({"type": "HEADER", "format": "LOCATION"}, GOOD_BODY),
    "footer of 60": with_components(GOOD_BODY, {"type": "FOOTER", "text": "f" * 60}),
    "variable followed by punctuation at the end": with_components(body("Your order is {{1}}.", ["here"])),
    "repeated variable": with_components(body("Hi {{1}}, yes {{1}} it is.", ["Anna"])),
    "ten quick replies": with_components(GOOD_BODY, buttons(*[{**QR, "text": f"Option {i}"} for i in range(10)])),
    "two URL buttons": with_components(GOOD_BODY, buttons(URL, PLAIN_URL)),
    "quick replies then others": with_components(GOOD_BODY, buttons(QR, QR, URL, PHONE)),
    "others then quick replies": with_components(GOOD_BODY, buttons(URL, PHONE, QR, QR)),
    "label of 25": with_components(GOOD_BODY, buttons({**QR, "text": "x" * 25})),
    "phone number of 20": with_components(GOOD_BODY, buttons({**PHONE, "phone_number": "+" + "1" * 19})),
    "copy code of 15": with_components(GOOD_BODY, buttons({**COPY, "example": "C" * 15})),
    "named URL variable in a named template": tpl(
        ORDER_UPDATE,
        components=[
            ORDER_UPDATE["components"][1],
            buttons(
                {
                    "type": "URL",
                    "text": "Open",
                    "url": "https://x.example/{{customer_name}}",
                    "example": ["https://x.example/anna"],
                }
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_accepted(case):
    assert validate_template(ACCEPTED[case]) == []


REFUSED = {
    "name missing": (tpl(name=""), "name"),
    "name with capitals": (tpl(name="Order_Update"), "name"),
    "name with a hyphen": (tpl(name="order-update"), "name"),
    "name of 513": (tpl(name="a" * 513), "name"),
    "language missing": (tpl(language=""), "language"),
    "language not a code": (tpl(language="German"), "language"),
    "category missing": (tpl(category=""), "category"),
    "category service": (tpl(category="SERVICE"), "category"),
    "parameter format unknown": (tpl(parameter_format="numbered"), "parameter_format"),
    "components not a list": (tpl(components="BODY"), "components"),
    "no body": (with_components({"type": "FOOTER", "text": "f"}), "body"),
    "two bodies": (with_components(GOOD_BODY, GOOD_BODY), "body"),
    "two headers": (
        with_components(
            {"type": "HEADER", "format": "TEXT", "text": "A"},
            {"type": "HEADER", "format": "TEXT", "text": "B"},
            GOOD_BODY,
        ),
        "header",
    ),
    "two footers": (
        with_components(GOOD_BODY, {"type": "FOOTER", "text": "a"}, {"type": "FOOTER", "text": "b"}),
        "footer",
    ),
    "unknown component": (with_components(GOOD_BODY, {"type": "CAROUSEL"}), "components"),
    "empty body": (with_components(body("  ")), "body"),
    "body of 1025": (with_components(body("x" * 1025)), "body"),
    "header text of 61": (with_components({"type": "HEADER", "format": "TEXT", "text": "h" * 61}, GOOD_BODY), "header"),
    "header with two variables": (
        with_components(
            {"type": "HEADER", "format": "TEXT", "text": "{{1}} and {{2}} x", "example": {"header_text": ["a", "b"]}},
            GOOD_BODY,
        ),
        "header",
    ),
    "header format unknown": (with_components({"type": "HEADER", "format": "GIFT"}, GOOD_BODY), "header"),
    "media header without example": (with_components({"type": "HEADER", "format": "VIDEO"}, GOOD_BODY), "header"),
    "location header in authentication": (
        with_components(
            {"type": "HEADER", "format": "LOCATION"}, body("Code {{1}} here.", ["1"]), category="AUTHENTICATION"
        ),
        "header",
    ),
    "footer of 61": (with_components(GOOD_BODY, {"type": "FOOTER", "text": "f" * 61}), "footer"),
    "footer with a variable": (with_components(GOOD_BODY, {"type": "FOOTER", "text": "Bye {{1}}"}), "footer"),
    "named variable in a positional template": (with_components(body("Hi {{name}}, ok.", ["Anna"])), "body"),
    "positional variable in a named template": (
        tpl(ORDER_UPDATE, components=[body("Hi {{1}}, ok.", ["Anna"])]),
        "body",
    ),
    "named variable with capitals": (
        tpl(
            ORDER_UPDATE,
            components=[
                {
                    "type": "BODY",
                    "text": "Hi {{FirstName}}, ok.",
                    "example": {"body_text_named_params": [{"param_name": "FirstName", "example": "A"}]},
                }
            ],
        ),
        "body",
    ),
    "positional not starting at 1": (with_components(body("Hi {{2}}, ok.", ["a", "b"])), "body"),
    "positional with a gap": (with_components(body("Hi {{1}} and {{3}}, ok.", ["a", "b", "c"])), "body"),
    "adjacent variables": (with_components(body("Hi {{1}}{{2}}, ok.", ["a", "b"])), "body"),
    "adjacent variables with a space": (with_components(body("Hi {{1}} {{2}}, ok.", ["a", "b"])), "body"),
    "body starting with a variable": (with_components(body("{{1}} is here.", ["a"])), "body"),
    "body ending with a variable": (with_components(body("Your order is {{1}}", ["a"])), "body"),
    "body variable without an example": (with_components(body("Hi {{1}} and {{2}}, ok.", ["a"])), "body"),
    "body variable with an empty example": (with_components(body("Hi {{1}}, ok.", [""])), "body"),
    "named variable without an example": (
        tpl(ORDER_UPDATE, components=[{"type": "BODY", "text": "Hi {{first_name}}, ok."}]),
        "body",
    ),
    "header variable without an example": (
        with_components({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, GOOD_BODY),
        "header",
    ),
    "eleven buttons": (with_components(GOOD_BODY, buttons(*[{**QR, "text": f"O{i}"} for i in range(11)])), "buttons"),
    "three URL buttons": (with_components(GOOD_BODY, buttons(URL, PLAIN_URL, PLAIN_URL)), "buttons"),
    "two phone buttons": (with_components(GOOD_BODY, buttons(PHONE, PHONE)), "buttons"),
    "two copy-code buttons": (with_components(GOOD_BODY, buttons(COPY, COPY)), "buttons"),
    "quick replies split": (with_components(GOOD_BODY, buttons(QR, URL, QR)), "buttons"),
    "empty buttons": (with_components(GOOD_BODY, buttons()), "buttons"),
    "label of 26": (with_components(GOOD_BODY, buttons({**QR, "text": "x" * 26})), "buttons.0"),
    "label missing": (with_components(GOOD_BODY, buttons({**QR, "text": ""})), "buttons.0"),
    "unknown button type": (with_components(GOOD_BODY, buttons({"type": "CALL_ME", "text": "x"})), "buttons.0"),
    "URL without scheme": (with_components(GOOD_BODY, buttons({**PLAIN_URL, "url": "shop.example"})), "buttons.0"),
    "URL variable in the middle": (
        with_components(GOOD_BODY, buttons({**URL, "url": "https://x.example/{{1}}/track"})),
        "buttons.0",
    ),
    "URL with two variables": (
        with_components(GOOD_BODY, buttons({**URL, "url": "https://x.example/{{1}}{{2}}"})),
        "buttons.0",
    ),
    "URL variable not {{1}}": (
        with_components(GOOD_BODY, buttons({**URL, "url": "https://x.example/{{2}}"})),
        "buttons.0",
    ),
    "URL variable without an example": (
        with_components(GOOD_BODY, buttons({k: v for k, v in URL.items() if k != "example"})),
        "buttons.0",
    ),
    "URL of 2001": (with_components(GOOD_BODY, buttons({**PLAIN_URL, "url": "https://" + "x" * 1993})), "buttons.0"),
    "phone number missing": (with_components(GOOD_BODY, buttons({**PHONE, "phone_number": ""})), "buttons.0"),
    "phone number of 21": (with_components(GOOD_BODY, buttons({**PHONE, "phone_number": "+" + "1" * 20})), "buttons.0"),
    "copy code without example": (with_components(GOOD_BODY, buttons({"type": "COPY_CODE"})), "buttons.0"),
    "copy code of 16": (with_components(GOOD_BODY, buttons({**COPY, "example": "C" * 16})), "buttons.0"),
    "authentication with a URL button": (
        with_components(body("Code {{1}} here.", ["1"]), buttons(PLAIN_URL), category="AUTHENTICATION"),
        "buttons",
    ),
    "authentication with a media header": (
        with_components(
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}},
            body("Code {{1}} here.", ["1"]),
            category="AUTHENTICATION",
        ),
        "header",
    ),
    "authentication with an emoji": (
        with_components(body("Code {{1}} here 🔐.", ["1"]), category="AUTHENTICATION"),
        "body",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused(case):
    data, field = REFUSED[case]
    problems = validate_template(data)
    assert field in [p["field"] for p in problems], problems
    for found in problems:
        assert found["message"], found
    # The message names the field it is about, so it can stand alone next to the field or in a list.
    first = next(p for p in problems if p["field"] == field)
    assert first["message"].split(":")[0] in {
        "Name",
        "Language",
        "Category",
        "Parameter format",
        "Components",
        "Header",
        "Body",
        "Footer",
        "Buttons",
    } or first["message"].startswith("Button ")


def test_every_problem_is_listed_not_just_the_first():
    data = with_components(
        body("{{1}}{{3}}", []), {"type": "FOOTER", "text": "Bye {{1}}"}, name="Bad Name", category="X"
    )
    found = set(fields(data))
    assert {"name", "category", "body", "footer"} <= found
    assert len([p for p in validate_template(data) if p["field"] == "body"]) >= 3


def test_not_an_object():
    assert fields([]) == ["template"]


def test_warnings_for_buttons_desktop_cannot_show():
    assert template_warnings(tpl(SHIPPING)) == []
    four = with_components(GOOD_BODY, buttons(*[{**QR, "text": f"O{i}"} for i in range(4)]))
    mixed = with_components(GOOD_BODY, buttons(QR, URL))
    assert [w["field"] for w in template_warnings(four)] == ["buttons"]
    assert [w["field"] for w in template_warnings(mixed)] == ["buttons"]
    assert validate_template(four) == [] and validate_template(mixed) == []
