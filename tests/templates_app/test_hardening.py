"""Odd input gives problems, never an exception: validation and rendering take whatever arrives."""

from __future__ import annotations

import itertools

import pytest

from templates_app.rendering import render
from templates_app.validation import validate_template

from .conftest import ORDER_UPDATE, SHIPPING

ODD = [None, 0, 1.5, True, "", "x", [], {}, [None], [1, "a"], {"a": None}, {"type": None}, "{{", "}}{{"]


@pytest.mark.parametrize("key", ["name", "language", "category", "parameter_format", "components"])
def test_any_value_in_any_field_is_a_problem_not_a_crash(key):
    for value in ODD:
        problems = validate_template({**SHIPPING, key: value})
        assert all(isinstance(p["message"], str) for p in problems)


def test_odd_components_and_buttons():
    for part, value in itertools.product(["type", "text", "format", "example", "buttons"], ODD):
        validate_template({**SHIPPING, "components": [{"type": "BODY", "text": "Hi {{1}} x.", part: value}]})
        validate_template({**SHIPPING, "components": [{"type": "BUTTONS", part: value}]})
        validate_template({**SHIPPING, "components": [{"type": "HEADER", part: value}, {"type": "BODY", "text": "a"}]})
        validate_template(
            {**SHIPPING, "components": [{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{part: value}]}]}
        )


def test_odd_parameters_are_problems():
    for template in (SHIPPING, ORDER_UPDATE):
        for key, value in itertools.product(["header", "body", "buttons", "footer"], ODD):
            out = render(
                components=template["components"],
                parameter_format=template.get("parameter_format", "positional"),
                parameters={key: value},
            )
            # Every odd value is refused, except a list of two scalars for a positional body.
            fits = key == "body" and value == [1, "a"] and template is SHIPPING
            assert bool(out.problems) is not fits, (key, value)
        for value in ODD:
            render(components=template["components"], parameter_format="named", parameters={"buttons": [value]})
            render(
                components=template["components"],
                parameter_format="positional",
                parameters={"buttons": [{"index": value, "parameters": value}]},
            )
    render(components=[None, "x", {"type": "BODY"}], parameter_format="positional", parameters=None)
