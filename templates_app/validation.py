"""Every rule Meta would reject a template for, checked before anything leaves the building.

Pure functions over Meta's own template JSON (name, language, category, parameter_format,
components). Each rule is one function returning problems `{"field": ..., "message": ...}`
whose message names the field; `validate_template` runs them all. `template_warnings` lists
what Meta accepts but customers may not see well. The rules and limits are those of Meta's
template pages as of November 2026.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$")
# Anything between double braces, so that a malformed variable is reported rather than missed.
VAR_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
ADJACENT_RE = re.compile(r"\}\}\s*\{\{")
NAMED_VAR_RE = re.compile(r"^[a-z_]+$")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("positional", "named")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW")

BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
PHONE_BUTTONS_MAX = 1
COPY_CODE_BUTTONS_MAX = 1
BUTTON_LABEL_MAX = 25
PHONE_NUMBER_MAX = 20
COPY_CODE_MAX = 15
URL_MAX = 2000
NAME_MAX = 512

# Emoji and pictographs: authentication templates may not contain them.
EMOJI_RE = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")

Problem = dict[str, str]


def problem(field: str, message: str) -> Problem:
    return {"field": field, "message": message}


# --- reading Meta's JSON ----------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def components_of(data: dict) -> list[dict]:
    components = data.get("components")
    return [c for c in components if isinstance(c, dict)] if isinstance(components, list) else []


def component(components: list[dict], kind: str) -> dict | None:
    return next((c for c in components if str(c.get("type", "")).upper() == kind), None)


def buttons_of(components: list[dict]) -> list[dict]:
    part = component(components, "BUTTONS")
    buttons = part.get("buttons") if part else None
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def variables(text: str) -> list[str]:
    """The variable names in order of appearance, repeats included."""
    return VAR_RE.findall(text)


def unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def parameter_format_of(data: dict) -> str:
    return _text(data.get("parameter_format")).lower() or "positional"


def button_type(button: dict) -> str:
    return _text(button.get("type")).upper()


def url_variable(url: str) -> str | None:
    found = variables(url)
    return found[0] if found else None


# --- top-level fields --------------------------------------------------------------------------


def check_name(data: dict) -> list[Problem]:
    name = data.get("name")
    if not isinstance(name, str) or not name:
        return [problem("name", _("Name: give the template a name."))]
    if len(name) > NAME_MAX:
        return [problem("name", _("Name: at most %(max)s characters.") % {"max": NAME_MAX})]
    if not NAME_RE.match(name):
        return [problem("name", _("Name: use only lowercase letters, digits and underscores (like order_update)."))]
    return []


def check_language(data: dict) -> list[Problem]:
    language = _text(data.get("language")).replace("-", "_")
    if not language:
        return [problem("language", _("Language: choose the template's language."))]
    if not LANGUAGE_RE.match(language):
        return [
            problem("language", _("Language: %(code)s is not a language code like de or en_US.") % {"code": language})
        ]
    return []


def check_category(data: dict) -> list[Problem]:
    if _text(data.get("category")).upper() not in CATEGORIES:
        return [problem("category", _("Category: choose Marketing, Utility or Authentication."))]
    return []


def check_parameter_format(data: dict) -> list[Problem]:
    value = data.get("parameter_format")
    if value in (None, ""):
        return []
    if _text(value).lower() not in PARAMETER_FORMATS:
        return [problem("parameter_format", _("Parameter format: choose positional or named."))]
    return []


def check_components(data: dict) -> list[Problem]:
    components = data.get("components")
    if not isinstance(components, list):
        return [problem("components", _("Components: give a list of header, body, footer and buttons."))]
    found: list[Problem] = []
    counts: dict[str, int] = {}
    for part in components:
        kind = str(part.get("type", "")).upper() if isinstance(part, dict) else ""
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            found.append(
                problem(
                    "components",
                    _("Components: %(kind)s is not a header, body, footer or buttons.") % {"kind": kind or "?"},
                )
            )
            continue
        counts[kind] = counts.get(kind, 0) + 1
    if counts.get("BODY", 0) != 1:
        found.append(problem("body", _("Body: a template has exactly one body.")))
    for kind, field, label in (
        ("HEADER", "header", _("Header")),
        ("FOOTER", "footer", _("Footer")),
        ("BUTTONS", "buttons", _("Buttons")),
    ):
        if counts.get(kind, 0) > 1:
            found.append(problem(field, _("%(part)s: a template has at most one.") % {"part": label}))
    return found


# --- variables -----------------------------------------------------------------------------------


def check_variable_names(data: dict) -> list[Problem]:
    """Positional variables are numbers; named ones lowercase letters and underscores; never mixed."""
    fmt = parameter_format_of(data)
    found: list[Problem] = []
    components = components_of(data)
    for field, label, text in _texts_with_variables(components):
        for name in unique(variables(text)):
            if fmt == "positional" and not name.isdigit():
                found.append(
                    problem(
                        field,
                        _(
                            "%(part)s: {{%(name)s}} is not a positional variable; "
                            "use {{1}}, {{2}}, … or choose the named format."
                        )
                        % {"part": label, "name": name},
                    )
                )
            elif fmt == "named" and not NAMED_VAR_RE.match(name):
                found.append(
                    problem(
                        field,
                        _(
                            "%(part)s: {{%(name)s}} is not a valid name; "
                            "use lowercase letters and underscores, like {{first_name}}."
                        )
                        % {"part": label, "name": name},
                    )
                )
    return found


def _texts_with_variables(components: list[dict]) -> list[tuple[str, str, str]]:
    out = []
    header = component(components, "HEADER")
    if header and _text(header.get("format")).upper() in ("", "TEXT"):
        out.append(("header", _("Header"), _text(header.get("text"))))
    body = component(components, "BODY")
    if body:
        out.append(("body", _("Body"), _text(body.get("text"))))
    return out


def check_positional_sequence(data: dict) -> list[Problem]:
    if parameter_format_of(data) != "positional":
        return []
    found = []
    for field, label, text in _texts_with_variables(components_of(data)):
        numbers = sorted({int(n) for n in variables(text) if n.isdigit()})
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            found.append(
                problem(
                    field,
                    _("%(part)s: positional variables must be numbered in sequence from {{1}} (found %(found)s).")
                    % {"part": label, "found": ", ".join(f"{{{{{n}}}}}" for n in numbers)},
                )
            )
    return found


def check_adjacent_variables(data: dict) -> list[Problem]:
    found = []
    for field, label, text in _texts_with_variables(components_of(data)):
        if ADJACENT_RE.search(text):
            found.append(
                problem(
                    field,
                    _(
                        "%(part)s: put text between variables; "
                        "two variables side by side (like {{1}}{{2}}) are rejected."
                    )
                    % {"part": label},
                )
            )
    return found


def check_body_edges(data: dict) -> list[Problem]:
    body = component(components_of(data), "BODY")
    text = _text(body.get("text")).strip() if body else ""
    if not text:
        return []
    if VAR_RE.match(text) or text.endswith("}}"):
        return [problem("body", _("Body: it may not start or end with a variable; add words before or after it."))]
    return []


def check_examples(data: dict) -> list[Problem]:
    """Every variable needs an example, in the shape of its parameter format."""
    fmt = parameter_format_of(data)
    components = components_of(data)
    found: list[Problem] = []
    for kind, field, label in (("HEADER", "header", _("Header")), ("BODY", "body", _("Body"))):
        part = component(components, kind)
        if not part or (kind == "HEADER" and _text(part.get("format")).upper() not in ("", "TEXT")):
            continue
        names = unique(variables(_text(part.get("text"))))
        if not names:
            continue
        given = examples_of(part, kind=kind, parameter_format=fmt)
        missing = [n for n in names if not given.get(n, "").strip()]
        if missing:
            found.append(
                problem(
                    field,
                    _("%(part)s: give an example for %(names)s.")
                    % {"part": label, "names": ", ".join(f"{{{{{n}}}}}" for n in missing)},
                )
            )
    return found


def examples_of(part: dict, *, kind: str, parameter_format: str) -> dict[str, str]:
    """The examples of a header or body as {variable name: example}."""
    example = part.get("example") if isinstance(part.get("example"), dict) else {}
    prefix = "header" if kind == "HEADER" else "body"
    if parameter_format == "named":
        rows = example.get(f"{prefix}_text_named_params")
        out = {}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("param_name"), str):
                out[row["param_name"]] = _text(row.get("example")) or str(row.get("example") or "")
        return out
    values = example.get(f"{prefix}_text")
    if kind == "BODY" and isinstance(values, list) and values and isinstance(values[0], list):
        values = values[0]
    if not isinstance(values, list):
        return {}
    return {str(i): str(v) for i, v in enumerate(values, start=1) if v is not None}


# --- lengths and parts --------------------------------------------------------------------------


def check_body(data: dict) -> list[Problem]:
    body = component(components_of(data), "BODY")
    if body is None:
        return []
    text = _text(body.get("text"))
    if not text.strip():
        return [problem("body", _("Body: write the message text."))]
    if len(text) > BODY_MAX:
        return [
            problem("body", _("Body: at most %(max)s characters (it has %(n)s).") % {"max": BODY_MAX, "n": len(text)})
        ]
    return []


def check_header(data: dict) -> list[Problem]:
    header = component(components_of(data), "HEADER")
    if header is None:
        return []
    fmt = _text(header.get("format")).upper() or "TEXT"
    if fmt not in HEADER_FORMATS:
        return [problem("header", _("Header: the format must be text, image, video, document or location."))]
    if fmt != "TEXT":
        if fmt in MEDIA_FORMATS:
            example = header.get("example") if isinstance(header.get("example"), dict) else {}
            if not example.get("header_handle"):
                return [
                    problem(
                        "header", _("Header: a media header needs an example file (header_handle from Meta's upload).")
                    )
                ]
        return []
    text = _text(header.get("text"))
    if not text.strip():
        return [problem("header", _("Header: write the header text, or remove the header."))]
    found = []
    if len(text) > HEADER_TEXT_MAX:
        found.append(
            problem(
                "header",
                _("Header: at most %(max)s characters (it has %(n)s).") % {"max": HEADER_TEXT_MAX, "n": len(text)},
            )
        )
    if len(unique(variables(text))) > 1:
        found.append(problem("header", _("Header: at most one variable.")))
    return found


def check_footer(data: dict) -> list[Problem]:
    footer = component(components_of(data), "FOOTER")
    if footer is None:
        return []
    text = _text(footer.get("text"))
    found = []
    if not text.strip():
        found.append(problem("footer", _("Footer: write the footer text, or remove the footer.")))
    if len(text) > FOOTER_MAX:
        found.append(
            problem(
                "footer", _("Footer: at most %(max)s characters (it has %(n)s).") % {"max": FOOTER_MAX, "n": len(text)}
            )
        )
    if variables(text) or "{{" in text:
        found.append(problem("footer", _("Footer: variables are not allowed in the footer.")))
    return found


# --- buttons -----------------------------------------------------------------------------------


def check_button_counts(data: dict) -> list[Problem]:
    buttons = buttons_of(components_of(data))
    kinds = [button_type(b) for b in buttons]
    found = []
    if len(buttons) > BUTTONS_MAX:
        found.append(problem("buttons", _("Buttons: at most %(max)s in all.") % {"max": BUTTONS_MAX}))
    for kind, most, label in (
        ("URL", URL_BUTTONS_MAX, _("website")),
        ("PHONE_NUMBER", PHONE_BUTTONS_MAX, _("phone number")),
        ("COPY_CODE", COPY_CODE_BUTTONS_MAX, _("copy code")),
    ):
        if kinds.count(kind) > most:
            found.append(
                problem("buttons", _("Buttons: at most %(max)s %(kind)s button(s).") % {"max": most, "kind": label})
            )
    part = component(components_of(data), "BUTTONS")
    if part is not None and not buttons:
        found.append(problem("buttons", _("Buttons: add at least one button, or remove the buttons.")))
    return found


def check_quick_replies_contiguous(data: dict) -> list[Problem]:
    kinds = [button_type(b) for b in buttons_of(components_of(data))]
    positions = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
    if positions and positions[-1] - positions[0] + 1 != len(positions):
        return [
            problem("buttons", _("Buttons: keep the quick replies together in one group (not split by other buttons)."))
        ]
    return []


def check_button_fields(data: dict) -> list[Problem]:
    fmt = parameter_format_of(data)
    found: list[Problem] = []
    for index, button in enumerate(buttons_of(components_of(data))):
        field = f"buttons.{index}"
        label = _("Button %(n)s") % {"n": index + 1}
        kind = button_type(button)
        if kind not in BUTTON_TYPES:
            found.append(
                problem(
                    field,
                    _("%(button)s: the type must be quick reply, website, phone number or copy code.")
                    % {"button": label},
                )
            )
            continue
        text = _text(button.get("text"))
        if kind != "COPY_CODE" and not text.strip():
            found.append(problem(field, _("%(button)s: give the button a label.") % {"button": label}))
        if len(text) > BUTTON_LABEL_MAX:
            found.append(
                problem(
                    field,
                    _("%(button)s: the label has at most %(max)s characters.")
                    % {"button": label, "max": BUTTON_LABEL_MAX},
                )
            )
        if kind == "URL":
            found += _check_url_button(button, field, label, fmt)
        elif kind == "PHONE_NUMBER":
            phone = _text(button.get("phone_number"))
            if not phone.strip():
                found.append(problem(field, _("%(button)s: give the phone number to call.") % {"button": label}))
            elif len(phone) > PHONE_NUMBER_MAX:
                found.append(
                    problem(
                        field,
                        _("%(button)s: the phone number has at most %(max)s characters.")
                        % {"button": label, "max": PHONE_NUMBER_MAX},
                    )
                )
        elif kind == "COPY_CODE":
            example = button.get("example")
            example = example[0] if isinstance(example, list) and example else example
            if not isinstance(example, str) or not example.strip():
                found.append(problem(field, _("%(button)s: give an example code to copy.") % {"button": label}))
            elif len(example) > COPY_CODE_MAX:
                found.append(
                    problem(
                        field,
                        _("%(button)s: the example code has at most %(max)s characters.")
                        % {"button": label, "max": COPY_CODE_MAX},
                    )
                )
    return found


def _check_url_button(button: dict, field: str, label: str, fmt: str) -> list[Problem]:
    url = _text(button.get("url"))
    if not url.startswith(("https://", "http://")):
        return [problem(field, _("%(button)s: give the web address, starting with https://.") % {"button": label})]
    if len(url) > URL_MAX:
        return [
            problem(
                field,
                _("%(button)s: the web address has at most %(max)s characters.") % {"button": label, "max": URL_MAX},
            )
        ]
    names = variables(url)
    if not names:
        return []
    if len(names) > 1 or not url.endswith("}}"):
        return [
            problem(field, _("%(button)s: the web address may hold one variable, at its very end.") % {"button": label})
        ]
    name = names[0]
    if (fmt == "positional" and name != "1") or (fmt == "named" and not (name == "1" or NAMED_VAR_RE.match(name))):
        return [problem(field, _("%(button)s: the web address's variable must be {{1}}.") % {"button": label})]
    example = button.get("example")
    example = example[0] if isinstance(example, list) and example else example
    if (
        not isinstance(example, str)
        or not example.startswith(url[: url.index("{{")])
        or len(example) <= url.index("{{")
    ):
        return [
            problem(
                field,
                _("%(button)s: give an example of the full web address, with a value for the variable.")
                % {"button": label},
            )
        ]
    return []


# --- category-specific ---------------------------------------------------------------------------


def check_authentication(data: dict) -> list[Problem]:
    if _text(data.get("category")).upper() != "AUTHENTICATION":
        return []
    components = components_of(data)
    found = []
    header = component(components, "HEADER")
    if header and _text(header.get("format")).upper() not in ("", "TEXT"):
        found.append(problem("header", _("Header: authentication templates may not have media or a location.")))
    if any(button_type(b) == "URL" for b in buttons_of(components)):
        found.append(problem("buttons", _("Buttons: authentication templates may not have website buttons.")))
    for field, label, text in _texts_with_variables(components) + [
        ("footer", _("Footer"), _text((component(components, "FOOTER") or {}).get("text")))
    ]:
        if EMOJI_RE.search(text):
            found.append(
                problem(field, _("%(part)s: authentication templates may not contain emoji.") % {"part": label})
            )
    return found


def check_location_header(data: dict) -> list[Problem]:
    header = component(components_of(data), "HEADER")
    location = header is not None and _text(header.get("format")).upper() == "LOCATION"
    if location and _text(data.get("category")).upper() not in ("UTILITY", "MARKETING"):
        return [problem("header", _("Header: a location header is only for utility or marketing templates."))]
    return []


RULES: tuple[Callable[[dict], list[Problem]], ...] = (
    check_name,
    check_language,
    check_category,
    check_parameter_format,
    check_components,
    check_header,
    check_location_header,
    check_body,
    check_footer,
    check_variable_names,
    check_positional_sequence,
    check_adjacent_variables,
    check_body_edges,
    check_examples,
    check_button_counts,
    check_quick_replies_contiguous,
    check_button_fields,
    check_authentication,
)


def validate_template(data: dict) -> list[Problem]:
    """Every problem Meta would reject this template JSON for; empty when it may be submitted."""
    if not isinstance(data, dict):
        return [problem("template", _("Template: send a JSON object."))]
    found: list[Problem] = []
    for rule in RULES:
        for item in rule(data):
            if item not in found:
                found.append(item)
    return found


def template_warnings(data: dict) -> list[Problem]:
    """What Meta accepts but customers may not see well."""
    kinds = [button_type(b) for b in buttons_of(components_of(data if isinstance(data, dict) else {}))]
    found = []
    if len(kinds) >= 4:
        found.append(
            problem(
                "buttons",
                _(
                    "Buttons: with 4 or more buttons the template cannot be viewed on WhatsApp desktop, "
                    'and phones show 2 plus "See all options".'
                ),
            )
        )
    elif "QUICK_REPLY" in kinds and any(k != "QUICK_REPLY" for k in kinds):
        found.append(
            problem(
                "buttons", _("Buttons: quick replies mixed with other buttons cannot be viewed on WhatsApp desktop.")
            )
        )
    return found
