"""What the phone page shows for a message: plain display data built from Meta's payloads.

Kept apart from the engine so the page's JavaScript stays a dumb renderer.
"""

from __future__ import annotations

import re

VAR_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _param_text(param: dict) -> str:
    kind = param.get("type")
    if kind == "text":
        return str(param.get("text", ""))
    if kind in ("currency", "date_time"):
        return str((param.get(kind) or {}).get("fallback_value", ""))
    if kind == "payload":
        return str(param.get("payload", ""))
    return f"[{kind}]"


def _fill(text: str, params: list[dict]) -> str:
    named = {p.get("parameter_name"): _param_text(p) for p in params if p.get("parameter_name")}
    positional = [_param_text(p) for p in params]

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(positional):
            return positional[int(key) - 1]
        return named.get(key, match.group(0))

    return VAR_RE.sub(replace, text)


def _send_components(template: dict) -> dict[str, list]:
    out: dict[str, list] = {"header": [], "body": [], "buttons": []}
    for component in template.get("components") or []:
        kind = str(component.get("type", "")).lower()
        if kind in ("header", "body"):
            out[kind] = component.get("parameters") or []
        elif kind == "button":
            out["buttons"].append(component)
    return out


def template_view(sent: dict, known: dict | None) -> dict:
    params = _send_components(sent)
    name = sent.get("name", "?")
    if known is None:
        shown = ", ".join(_param_text(p) for p in params["body"])
        return {"text": f"📋 {name}" + (f": {shown}" if shown else ""), "template": name, "buttons": []}
    view: dict = {"template": name, "buttons": [], "text": ""}
    for component in known.get("components") or []:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and component.get("format", "TEXT") == "TEXT":
            view["header"] = _fill(component.get("text", ""), params["header"])
        elif kind == "BODY":
            view["text"] = _fill(component.get("text", ""), params["body"])
        elif kind == "FOOTER":
            view["footer"] = component.get("text", "")
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if button.get("type") == "QUICK_REPLY":
                    payload = button.get("text", "")
                    for sent_button in params["buttons"]:
                        if str(sent_button.get("index")) == str(index) and sent_button.get("parameters"):
                            payload = _param_text(sent_button["parameters"][0])
                    view["buttons"].append({"kind": "quick_reply", "title": button.get("text", ""), "id": payload})
                else:
                    view["buttons"].append({"kind": "link", "title": button.get("text", ""), "id": ""})
    return view


def interactive_view(interactive: dict) -> dict:
    body = (interactive.get("body") or {}).get("text", "")
    header = (interactive.get("header") or {}).get("text")
    footer = (interactive.get("footer") or {}).get("text")
    action = interactive.get("action") or {}
    buttons = []
    if interactive.get("type") == "button":
        for button in action.get("buttons") or []:
            reply = button.get("reply") or {}
            buttons.append({"kind": "reply", "id": reply.get("id", ""), "title": reply.get("title", "")})
    elif interactive.get("type") == "list":
        for section in action.get("sections") or []:
            for row in section.get("rows") or []:
                buttons.append(
                    {
                        "kind": "row",
                        "id": row.get("id", ""),
                        "title": row.get("title", ""),
                        "description": row.get("description", ""),
                    }
                )
    else:
        title = (action.get("parameters") or {}).get("display_text") or action.get("button") or ""
        if title:
            buttons.append({"kind": "link", "id": "", "title": title})
    view = {"text": body, "buttons": buttons}
    if header:
        view["header"] = header
    if footer:
        view["footer"] = footer
    return view


def outbound_view(payload: dict, known_template: dict | None, media_url) -> dict:
    """`media_url(id_or_none, link_or_none)` gives a URL the page may load without a token."""
    kind = payload.get("type", "text")
    part = payload.get(kind) or {}
    if kind == "text":
        return {"text": part.get("body", "")}
    if kind == "template":
        return template_view(part, known_template)
    if kind == "interactive":
        return interactive_view(part)
    if kind in ("image", "video", "audio", "document", "sticker"):
        return {
            "text": part.get("caption", ""),
            "media": {
                "kind": kind,
                "url": media_url(part.get("id"), part.get("link")),
                "filename": part.get("filename"),
            },
        }
    if kind == "location":
        return {"text": f"📍 {part.get('name') or ''} {part.get('latitude')}, {part.get('longitude')}".strip()}
    if kind == "contacts":
        names = [((c.get("name") or {}).get("formatted_name") or "?") for c in part if isinstance(c, dict)]
        return {"text": "👤 " + ", ".join(names)}
    return {"text": f"[{kind}]"}
