"""The editor's form fields <-> Meta's template JSON.

The page is a plain form that works without JavaScript: buttons are numbered rows (add and
remove re-render the form), examples are one per line. `Editor.to_meta()` gives the JSON that
validation, rendering and the services take, so the editor checks exactly what Meta gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from core.params import positive_int
from templates_app.validation import BUTTONS_MAX, component, examples_of, unique, variables

BUTTON_TYPES = [
    ("QUICK_REPLY", _("Quick reply")),
    ("URL", _("Website")),
    ("PHONE_NUMBER", _("Phone number")),
    ("COPY_CODE", _("Copy code")),
]
HEADER_FORMATS = [
    ("", _("No header")),
    ("TEXT", _("Text")),
    ("IMAGE", _("Image")),
    ("VIDEO", _("Video")),
    ("DOCUMENT", _("Document")),
    ("LOCATION", _("Location")),
]


@dataclass
class ButtonRow:
    type: str = "QUICK_REPLY"
    text: str = ""
    # The URL, the phone number or the example code, by type.
    value: str = ""
    # A URL button's example of the full address (when the URL ends in a variable).
    example: str = ""


@dataclass
class Editor:
    name: str = ""
    language: str = ""
    category: str = "UTILITY"
    parameter_format: str = "positional"
    header_format: str = ""
    header_text: str = ""
    header_example: str = ""
    header_handle: str = ""
    body: str = ""
    body_examples: str = ""
    footer: str = ""
    buttons: list[ButtonRow] = field(default_factory=list)

    # --- from a request ------------------------------------------------------------------

    @classmethod
    def from_post(cls, post) -> Editor:
        def get(key: str) -> str:
            return str(post.get(key, "") or "").replace("\r\n", "\n")

        rows = []
        count = min(positive_int(post.get("button_count")) or 0, 20)
        for i in range(count):
            row = ButtonRow(
                type=get(f"button_type_{i}") or "QUICK_REPLY",
                text=get(f"button_text_{i}"),
                value=get(f"button_value_{i}"),
                example=get(f"button_example_{i}"),
            )
            rows.append(row)
        return cls(
            name=get("name").strip(),
            language=get("language").strip(),
            category=get("category"),
            parameter_format=get("parameter_format") or "positional",
            header_format=get("header_format"),
            header_text=get("header_text"),
            header_example=get("header_example"),
            header_handle=get("header_handle").strip(),
            body=get("body"),
            body_examples=get("body_examples"),
            footer=get("footer"),
            buttons=rows,
        )

    def act(self, action: str) -> bool:
        """Add or remove a button row; True when the action was one of those (re-render, no save)."""
        if action == "add_button":
            if len(self.buttons) < BUTTONS_MAX:
                self.buttons.append(ButtonRow())
            return True
        if action.startswith("remove_button_") and action.rsplit("_", 1)[1].isdigit():
            index = int(action.rsplit("_", 1)[1])
            if 0 <= index < len(self.buttons):
                self.buttons.pop(index)
            return True
        return False

    # --- to Meta's JSON ------------------------------------------------------------------

    def _body_examples(self) -> dict[str, str]:
        """`name=value` lines, or one value per line in variable order."""
        names = unique(variables(self.body))
        out: dict[str, str] = {}
        plain = []
        for line in self.body_examples.split("\n"):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if sep and key.strip() in names:
                out[key.strip()] = value.strip()
            else:
                plain.append(line.strip())
        for name in names:
            if name not in out and plain:
                out[name] = plain.pop(0)
        return out

    def to_meta(self) -> dict:
        named = self.parameter_format == "named"
        components: list[dict] = []
        if self.header_format == "TEXT":
            header: dict = {"type": "HEADER", "format": "TEXT", "text": self.header_text}
            names = unique(variables(self.header_text))
            if names and self.header_example.strip():
                if named:
                    header["example"] = {
                        "header_text_named_params": [{"param_name": names[0], "example": self.header_example.strip()}]
                    }
                else:
                    header["example"] = {"header_text": [self.header_example.strip()]}
            components.append(header)
        elif self.header_format:
            header = {"type": "HEADER", "format": self.header_format}
            if self.header_handle:
                header["example"] = {"header_handle": [self.header_handle]}
            components.append(header)
        body: dict = {"type": "BODY", "text": self.body}
        examples = self._body_examples()
        names = unique(variables(self.body))
        if names:
            if named:
                body["example"] = {
                    "body_text_named_params": [{"param_name": n, "example": examples.get(n, "")} for n in names]
                }
            else:
                body["example"] = {"body_text": [[examples.get(n, "") for n in names]]}
        components.append(body)
        if self.footer.strip():
            components.append({"type": "FOOTER", "text": self.footer})
        if self.buttons:
            components.append({"type": "BUTTONS", "buttons": [self._button(row) for row in self.buttons]})
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": components,
        }

    @staticmethod
    def _button(row: ButtonRow) -> dict:
        if row.type == "URL":
            button = {"type": "URL", "text": row.text, "url": row.value.strip()}
            if "{{" in row.value and row.example.strip():
                button["example"] = [row.example.strip()]
            return button
        if row.type == "PHONE_NUMBER":
            return {"type": "PHONE_NUMBER", "text": row.text, "phone_number": row.value.strip()}
        if row.type == "COPY_CODE":
            return {"type": "COPY_CODE", "example": row.value.strip()}
        return {"type": row.type or "QUICK_REPLY", "text": row.text}

    # --- from a stored template ------------------------------------------------------------

    @classmethod
    def from_template(cls, template, components: list[dict], *, category: str | None = None) -> Editor:
        fmt = template.parameter_format
        editor = cls(
            name=template.name,
            language=template.language,
            category=category or template.category,
            parameter_format=fmt,
        )
        header = component(components, "HEADER")
        if header:
            editor.header_format = str(header.get("format") or "TEXT").upper()
            editor.header_text = str(header.get("text") or "")
            examples = examples_of(header, kind="HEADER", parameter_format=fmt)
            editor.header_example = next(iter(examples.values()), "")
            handle = (
                (header.get("example") or {}).get("header_handle") if isinstance(header.get("example"), dict) else None
            )
            editor.header_handle = handle[0] if isinstance(handle, list) and handle else ""
        body = component(components, "BODY") or {}
        editor.body = str(body.get("text") or "")
        examples = examples_of(body, kind="BODY", parameter_format=fmt) if body else {}
        names = unique(variables(editor.body))
        editor.body_examples = "\n".join(f"{n}={examples.get(n, '')}" for n in names)
        footer = component(components, "FOOTER")
        editor.footer = str((footer or {}).get("text") or "")
        buttons = component(components, "BUTTONS")
        for button in (buttons or {}).get("buttons") or []:
            kind = str(button.get("type") or "").upper()
            example = button.get("example")
            example = example[0] if isinstance(example, list) and example else (example or "")
            value = {"URL": button.get("url"), "PHONE_NUMBER": button.get("phone_number"), "COPY_CODE": example}.get(
                kind
            )
            editor.buttons.append(
                ButtonRow(
                    type=kind,
                    text=str(button.get("text") or ""),
                    value=str(value or ""),
                    example=str(example) if kind == "URL" else "",
                )
            )
        return editor


def problems_by_field(problems: list[dict]) -> dict[str, list[str]]:
    """Problems keyed by the form part they are shown next to (`buttons.2` -> `button_2`)."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        where = problem["field"]
        if where.startswith("buttons."):
            key = "button_" + where.split(".")[1]
        elif where in ("name", "language", "category", "parameter_format", "header", "body", "footer", "buttons"):
            key = where
        else:
            key = "form"
        out.setdefault(key, []).append(problem["message"])
    return out
