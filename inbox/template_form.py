"""The agent's template form: one field per parameter of a template, and back to `parameters`.

A template's variables sit in its header text, its body and at the end of a URL button
(Meta's component JSON). Each becomes a field named after where it goes, with the example the
admin gave as its placeholder; what the agent types becomes the `parameters` object of the
sending service (DESIGN.md): lists for positional templates, objects keyed by name for named
ones, and `buttons: [{"index", "parameters"}]` for URL suffixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class Slot:
    field: str  # the form field's name
    section: str  # header | body | button
    key: str  # the variable's name or position ("1"), or the button's index
    label: str
    example: str


def _component(components: list[dict], kind: str) -> dict:
    for component in components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return {}


def _examples(component: dict, section: str, named: bool) -> dict[str, str]:
    example = component.get("example") or {}
    if named:
        return {
            str(item.get("param_name")): str(item.get("example", ""))
            for item in example.get(f"{section}_text_named_params") or []
            if isinstance(item, dict)
        }
    values = example.get(f"{section}_text") or []
    if section == "body" and values and isinstance(values[0], list):
        values = values[0]
    return {str(position): str(value) for position, value in enumerate(values, start=1)}


def _url_suffix_example(button: dict) -> str:
    url = str(button.get("url") or "")
    examples = button.get("example") or []
    example = str(examples[0]) if examples else ""
    prefix = url.split("{{", 1)[0]
    return example[len(prefix) :] if example.startswith(prefix) else example


def parameter_slots(*, components: list[dict], parameter_format: str) -> list[Slot]:
    named = parameter_format == "named"
    slots: list[Slot] = []
    for section, kind in (("header", "HEADER"), ("body", "BODY")):
        component = _component(components, kind)
        text = str(component.get("text") or "") if str(component.get("format", "TEXT")).upper() == "TEXT" else ""
        examples = _examples(component, section, named)
        seen: set[str] = set()
        for key in VARIABLE.findall(text):
            if key in seen:
                continue
            seen.add(key)
            label = _("Header") if section == "header" else _("Body")
            slots.append(Slot(f"p-{section}-{key}", section, key, f"{label} {{{{{key}}}}}", examples.get(key, "")))
    buttons = _component(components, "BUTTONS").get("buttons") or []
    for index, button in enumerate(buttons):
        if isinstance(button, dict) and str(button.get("type", "")).upper() == "URL" and "{{" in str(button.get("url")):
            label = _("Link ending for “%(text)s”") % {"text": button.get("text", "")}
            slots.append(Slot(f"p-button-{index}", "button", str(index), label, _url_suffix_example(button)))
    return slots


def _position(key: str) -> int:
    return int(key) if key.isdigit() else 0


def parameters_from(slots: list[Slot], data: Any, *, parameter_format: str) -> dict:
    """The sending service's `parameters` from submitted form data (every slot, even empty)."""
    named = parameter_format == "named"
    parameters: dict[str, Any] = {}
    for section in ("header", "body"):
        values = [(slot.key, str(data.get(slot.field, ""))) for slot in slots if slot.section == section]
        if not values:
            continue
        if named:
            parameters[section] = dict(values)
        else:
            parameters[section] = [value for _key, value in sorted(values, key=lambda kv: int(kv[0]))]
    buttons = [
        {"index": int(slot.key), "parameters": [str(data.get(slot.field, ""))]}
        for slot in slots
        if slot.section == "button"
    ]
    if buttons:
        parameters["buttons"] = buttons
    return parameters


def examples_for(slots: list[Slot], *, parameter_format: str) -> dict:
    """The parameters as the admin's examples fill them: what the preview shows before typing."""
    return parameters_from(slots, {slot.field: slot.example for slot in slots}, parameter_format=parameter_format)
