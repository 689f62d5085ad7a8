"""One function from a template and its parameters to both the send payload and what the customer sees.

The preview, the agent's picker, the stored message text and the Cloud API `template.components`
all come from `render`, so the preview never shows something other than what is sent.

Parameters (DESIGN.md): positional `{"header": [...], "body": [...], "buttons": [{"index": 0,
"parameters": [...]}]}`; for named templates header and body are objects keyed by variable name.
A media header takes one parameter: a URL string, or `{"link": ...}` / `{"id": MEDIA_ID}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from templates_app import validation
from templates_app.validation import VAR_RE, button_type, component, examples_of, unique, variables

# Meta refuses parameter text with new lines, tabs or more than 4 consecutive spaces.
BAD_WHITESPACE_RE = re.compile(r"[\n\t]| {5,}")
AUTHENTICATION_PARAMETER_MAX = 15
MEDIA_LABELS = {"IMAGE": "📷", "VIDEO": "🎬", "DOCUMENT": "📄", "LOCATION": "📍"}


@dataclass(frozen=True)
class RenderedButton:
    type: str
    text: str
    url: str = ""
    phone_number: str = ""
    code: str = ""


@dataclass
class Rendered:
    send_components: list[dict] = field(default_factory=list)
    text: str = ""
    header: str = ""
    header_format: str = ""  # "" (none), TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_media_url: str = ""
    body: str = ""
    footer: str = ""
    buttons: list[RenderedButton] = field(default_factory=list)
    # The parameters as they were used (normalised to strings), to store with a sent message.
    parameters: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return None


class _Renderer:
    def __init__(self, *, components, parameter_format, parameters, use_examples, category):
        self.components = [c for c in components or [] if isinstance(c, dict)]
        self.named = (parameter_format or "positional").lower() == "named"
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.use_examples = use_examples
        self.category = (category or "").upper()
        self.out = Rendered()
        if parameters is not None and not isinstance(parameters, dict):
            self.problem("parameters", _("Parameters: send an object with header, body and buttons."))

    def problem(self, where: str, message: str) -> None:
        entry = {"field": where, "message": message}
        if entry not in self.out.problems:
            self.out.problems.append(entry)

    def run(self) -> Rendered:
        for key in self.parameters:
            if key not in ("header", "body", "buttons"):
                self.problem(
                    key,
                    _("%(key)s: the template takes no such parameters (only header, body and buttons).") % {"key": key},
                )
        self.header()
        self.body()
        footer = component(self.components, "FOOTER")
        self.out.footer = str((footer or {}).get("text") or "")
        self.buttons()
        out = self.out
        lines = [out.header, out.body, out.footer] + [b.text for b in out.buttons]
        out.text = "\n".join(line for line in lines if line)
        return out

    # --- header and body ---------------------------------------------------------------------

    def header(self) -> None:
        part = component(self.components, "HEADER")
        given = self.parameters.get("header")
        if part is None:
            if given:
                self.problem("header", _("Header: the template has no header variable, so give no header parameters."))
            return
        fmt = str(part.get("format") or "TEXT").upper()
        self.out.header_format = fmt
        if fmt == "TEXT":
            text, params = self.fill(part, "HEADER", "header", _("Header"))
            self.out.header = text
            if len(text) > validation.HEADER_TEXT_MAX and not self.has_problem("header"):
                self.problem(
                    "header",
                    _("Header: with the parameters it has %(n)s characters; at most %(max)s.")
                    % {"n": len(text), "max": validation.HEADER_TEXT_MAX},
                )
            if params:
                self.out.send_components.append({"type": "header", "parameters": params})
            return
        if fmt == "LOCATION":
            self.out.header = MEDIA_LABELS["LOCATION"]
            return
        self.media_header(fmt, given)

    def media_header(self, fmt: str, given: Any) -> None:
        kind = fmt.lower()
        value = given[0] if isinstance(given, list) and len(given) == 1 else given
        if isinstance(given, list) and len(given) > 1:
            self.problem("header", _("Header: give one media file (a link or a media id)."))
        media: dict = {}
        if isinstance(value, str) and value.strip():
            media = {"link": value.strip()}
        elif isinstance(value, dict) and (value.get("link") or value.get("id")):
            media = {k: str(value[k]) for k in ("link", "id") if value.get(k)}
        elif value not in (None, "", [], {}):
            self.problem("header", _("Header: give the %(kind)s as a link or a media id.") % {"kind": kind})
        elif not self.use_examples:
            self.problem(
                "header", _("Header: the template's header needs a %(kind)s (a link or a media id).") % {"kind": kind}
            )
        self.out.header = MEDIA_LABELS.get(fmt, "")
        self.out.header_media_url = media.get("link", "")
        if media:
            self.out.parameters["header"] = [media]
            self.out.send_components.append({"type": "header", "parameters": [{"type": kind, kind: media}]})

    def body(self) -> None:
        part = component(self.components, "BODY")
        if part is None:
            return
        text, params = self.fill(part, "BODY", "body", _("Body"))
        self.out.body = text
        if len(text) > validation.BODY_MAX and not self.has_problem("body"):
            self.problem(
                "body",
                _("Body: with the parameters it has %(n)s characters; at most %(max)s.")
                % {"n": len(text), "max": validation.BODY_MAX},
            )
        if params:
            self.out.send_components.append({"type": "body", "parameters": params})

    def has_problem(self, prefix: str) -> bool:
        return any(p["field"] == prefix or p["field"].startswith(prefix + ".") for p in self.out.problems)

    def fill(self, part: dict, kind: str, key: str, label: str) -> tuple[str, list[dict]]:
        """The hydrated text and the send parameters of a header or body; problems recorded."""
        template_text = str(part.get("text") or "")
        names = unique(variables(template_text))
        given = self.parameters.get(key)
        examples = examples_of(part, kind=kind, parameter_format="named" if self.named else "positional")
        values: dict[str, str] = {}
        if self.named:
            if given is not None and not isinstance(given, dict):
                self.problem(
                    key,
                    _('%(part)s: named parameters are an object keyed by name, like {"first_name": "Anna"}.')
                    % {"part": label},
                )
                given = {}
            given = given or {}
            for extra in [k for k in given if k not in names]:
                self.problem(
                    f"{key}.{extra}",
                    _("%(part)s: the template has no variable {{%(name)s}}%(known)s.")
                    % {"part": label, "name": extra, "known": self.known(names)},
                )
            raw = {n: given.get(n) for n in names}
        else:
            if given is not None and not isinstance(given, list):
                self.problem(
                    key, _('%(part)s: positional parameters are a list, like ["Anna", "#1042"].') % {"part": label}
                )
                given = []
            given = given or []
            if len(given) > len(names):
                self.problem(
                    key,
                    _("%(part)s: the template has %(n)s variable(s) but %(given)s parameters were given.")
                    % {"part": label, "n": len(names), "given": len(given)},
                )
            raw = {n: (given[int(n) - 1] if n.isdigit() and 0 < int(n) <= len(given) else None) for n in names}
        params = []
        for name in names:
            value = _as_text(raw[name])
            where = f"{key}.{name}"
            if raw[name] is not None and value is None:
                self.problem(
                    where, _("%(part)s: the value of {{%(name)s}} must be text.") % {"part": label, "name": name}
                )
            elif value is not None and value.strip() and BAD_WHITESPACE_RE.search(value):
                self.problem(
                    where,
                    _(
                        "%(part)s: the value of {{%(name)s}} may not contain new lines, tabs "
                        "or more than 4 spaces in a row."
                    )
                    % {"part": label, "name": name},
                )
            elif (
                value is not None
                and value.strip()
                and self.category == "AUTHENTICATION"
                and len(value) > AUTHENTICATION_PARAMETER_MAX
            ):
                self.problem(
                    where,
                    _(
                        "%(part)s: the value of {{%(name)s}} has at most %(max)s characters "
                        "in an authentication template."
                    )
                    % {"part": label, "name": name, "max": AUTHENTICATION_PARAMETER_MAX},
                )
            if value is None or not value.strip():
                value = examples.get(name, "") if self.use_examples else ""
                if not value:
                    if not self.use_examples or raw[name] is not None:
                        self.problem(
                            where, _("%(part)s: give a value for {{%(name)s}}.") % {"part": label, "name": name}
                        )
                    value = ""
                    values[name] = ""
                    continue
            values[name] = value
            param = {"type": "text", "text": value}
            if self.named:
                param = {"type": "text", "parameter_name": name, "text": value}
            params.append(param)
        if names:
            self.out.parameters[key] = {n: values[n] for n in names} if self.named else [values[n] for n in names]

        def hydrate(match: re.Match) -> str:
            name = match.group(1)
            return values.get(name) or match.group(0)

        text = VAR_RE.sub(hydrate, template_text)
        return text, (params if len(params) == len(names) else [])

    @staticmethod
    def known(names: list[str]) -> str:
        if not names:
            return ""
        return " (" + _("it has %(names)s") % {"names": ", ".join(f"{{{{{n}}}}}" for n in names)} + ")"

    # --- buttons -----------------------------------------------------------------------------

    def buttons(self) -> None:
        buttons = validation.buttons_of(self.components)
        given_list = self.parameters.get("buttons")
        given: dict[int, list] = {}
        if given_list is not None and not isinstance(given_list, list):
            self.problem("buttons", _('Buttons: give a list like [{"index": 0, "parameters": ["1042"]}].'))
            given_list = []
        for entry in given_list or []:
            index = entry.get("index") if isinstance(entry, dict) else None
            try:
                index = int(index)
            except (TypeError, ValueError):
                self.problem("buttons", _("Buttons: each entry needs an index (0 for the first button)."))
                continue
            params = entry.get("parameters")
            if not isinstance(params, list):
                params = [params] if params not in (None, "") else []
            if not 0 <= index < len(buttons):
                self.problem(f"buttons.{index}", _("Button %(n)s: the template has no such button.") % {"n": index + 1})
                continue
            given[index] = params
        used: list[dict] = []
        for index, button in enumerate(buttons):
            rendered, component_ = self.button(index, button, given.get(index))
            self.out.buttons.append(rendered)
            if component_:
                self.out.send_components.append(component_)
                used.append(
                    {
                        "index": index,
                        "parameters": [
                            p.get("text") or p.get("payload") or p.get("coupon_code") for p in component_["parameters"]
                        ],
                    }
                )
        if used:
            self.out.parameters["buttons"] = used

    def button(self, index: int, button: dict, given: list | None) -> tuple[RenderedButton, dict | None]:
        kind = button_type(button)
        label = str(button.get("text") or "")
        where = f"buttons.{index}"
        name = _("Button %(n)s") % {"n": index + 1}
        value = _as_text(given[0]) if given else None
        if given and len(given) > 1:
            self.problem(where, _("%(button)s: give one parameter.") % {"button": name})
        example = button.get("example")
        example = example[0] if isinstance(example, list) and example else example
        example = example if isinstance(example, str) else ""
        if kind == "URL":
            url = str(button.get("url") or "")
            variable = validation.url_variable(url)
            if variable is None:
                if given:
                    self.problem(
                        where,
                        _("%(button)s: the web address has no variable, so give no parameter.") % {"button": name},
                    )
                return RenderedButton(kind, label, url=url), None
            prefix = url[: url.index("{{")]
            if not value or not value.strip():
                if self.use_examples and example.startswith(prefix):
                    value = example[len(prefix) :]
                else:
                    self.problem(
                        where,
                        _("%(button)s: give the end of the web address (the suffix after %(prefix)s).")
                        % {"button": name, "prefix": prefix},
                    )
                    return RenderedButton(kind, label, url=url), None
            if len(prefix) + len(value) > validation.URL_MAX:
                self.problem(
                    where,
                    _("%(button)s: the web address would be longer than %(max)s characters.")
                    % {"button": name, "max": validation.URL_MAX},
                )
            param = {"type": "text", "text": value}
            if self.named and not variable.isdigit():
                param = {"type": "text", "parameter_name": variable, "text": value}
            return RenderedButton(kind, label, url=prefix + value), {
                "type": "button",
                "sub_type": "url",
                "index": str(index),
                "parameters": [param],
            }
        if kind == "QUICK_REPLY":
            if value:
                return RenderedButton(kind, label), {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": value}],
                }
            return RenderedButton(kind, label), None
        if kind == "COPY_CODE":
            code = value if value and value.strip() else (example if self.use_examples else "")
            if not code:
                self.problem(where, _("%(button)s: give the code to copy.") % {"button": name})
                return RenderedButton(kind, label or _("Copy code")), None
            if len(code) > validation.COPY_CODE_MAX:
                self.problem(
                    where,
                    _("%(button)s: the code has at most %(max)s characters.")
                    % {"button": name, "max": validation.COPY_CODE_MAX},
                )
            return RenderedButton(kind, label or _("Copy code"), code=code), {
                "type": "button",
                "sub_type": "copy_code",
                "index": str(index),
                "parameters": [{"type": "coupon_code", "coupon_code": code}],
            }
        if given:
            self.problem(where, _("%(button)s: this button takes no parameter.") % {"button": name})
        return RenderedButton(kind, label, phone_number=str(button.get("phone_number") or "")), None


def render(
    *,
    components: list[dict],
    parameter_format: str,
    parameters: dict | None,
    use_examples: bool = False,
    category: str = "",
) -> Rendered:
    """The send components, the customer's text, the parts for the UI and every parameter problem.

    With `use_examples` an empty or missing value shows the template's example instead (the live
    preview); without it (sending), each one is a problem.
    """
    return _Renderer(
        components=components,
        parameter_format=parameter_format,
        parameters=parameters,
        use_examples=use_examples,
        category=category,
    ).run()
