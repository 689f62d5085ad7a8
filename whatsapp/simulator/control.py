"""The simulator's own JSON endpoints under /_sim/: what the phone page and other processes use.

They mirror the Python API of `Simulator` (customer_message, customer_read, fail_next, ...).
They are a local development tool with no authentication: bind the simulator to 127.0.0.1.
"""

from __future__ import annotations

from .engine import Engine
from .httpkit import Request, Response, json_response
from .template_controls import TemplateNotFound

DEFAULT_PHONE_NUMBER_ID = "100000000000001"  # the demo number of `seed_demo`


def _bad(message: str) -> Response:
    return json_response({"error": message}, 400)


def handle(engine: Engine, request: Request, segments: list[str]) -> Response:
    route = "/".join(segments)
    method = request.method
    body = request.json() if method == "POST" else {}
    if body is None:
        return _bad("the body must be a JSON object")
    if route == "health":
        return json_response({"ok": True})
    if route == "config" and method == "GET":
        return json_response(
            {
                "default_phone_number_id": DEFAULT_PHONE_NUMBER_ID,
                "webhook_url": engine.poster.url,
                "api_version": engine.api_version,
                "numbers": engine.numbers,
            }
        )
    if route == "chats" and method == "GET":
        return json_response({"chats": engine.chats()})
    if route == "chat" and method == "GET":
        return _chat(engine, request)
    if route == "customer/message" and method == "POST":
        return _customer_message(engine, body)
    if route == "customer/read" and method == "POST":
        engine.customer_read(
            *body.get("wamids", []), phone_number_id=body.get("phone_number_id"), wa_id=body.get("wa_id")
        )
        return json_response({"ok": True})
    if route == "customer/preference" and method == "POST":
        if body.get("value") not in ("stop", "resume") or not body.get("wa_id"):
            return _bad("give phone_number_id, wa_id and value stop|resume")
        engine.customer_preference(
            phone_number_id=str(body.get("phone_number_id") or DEFAULT_PHONE_NUMBER_ID),
            wa_id=str(body["wa_id"]),
            value=body["value"],
        )
        return json_response({"ok": True})
    if route == "fail_next" and method == "POST":
        try:
            engine.fail_next(int(body["code"]), int(body.get("count", 1)))
        except (KeyError, TypeError, ValueError):
            return _bad("give code (and count)")
        return json_response({"ok": True})
    if route == "delay_next" and method == "POST":
        try:
            engine.delay_next(float(body["seconds"]), int(body.get("count", 1)))
        except (KeyError, TypeError, ValueError):
            return _bad("give seconds (and count)")
        return json_response({"ok": True})
    if route == "number_quality" and method == "POST":
        if not body.get("event"):
            return _bad("give event (FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE), and limit or rating")
        engine.number_quality(
            str(body.get("phone_number_id") or DEFAULT_PHONE_NUMBER_ID),
            event=str(body["event"]).upper(),
            limit=str(body.get("limit") or "").upper(),
            rating=str(body.get("rating") or "").upper(),
        )
        return json_response({"ok": True})
    if route == "rate_limit" and method == "POST":
        engine.set_rate_limit(body.get("per_second"))
        return json_response({"ok": True})
    if route == "pair_rate_limit" and method == "POST":
        engine.set_pair_rate_limit(body.get("interval"), int(body.get("burst", 45)))
        return json_response({"ok": True})
    if route == "refused" and method == "GET":
        return json_response({"refused": {str(code): count for code, count in engine.refused.items()}})
    if route == "sent" and method == "GET":
        return json_response({"sent": engine.sent})
    if route == "webhooks" and method == "GET":
        return json_response({"url": engine.poster.url, "attempts": engine.webhook_log})
    if segments and segments[0] == "templates":
        return template_controls(engine, method, segments[1:], body)
    if len(segments) == 2 and segments[0] == "media" and method == "GET":
        media = engine.media(segments[1])
        if media is None:
            return json_response({"error": "no such media"}, 404)
        return Response(200, media.content, media.mime_type, {"Cache-Control": "max-age=3600"})
    return json_response({"error": "not found"}, 404)


def _chat(engine: Engine, request: Request) -> Response:
    phone_number_id = request.query.get("phone_number_id") or DEFAULT_PHONE_NUMBER_ID
    wa_id = "".join(ch for ch in request.query.get("wa_id", "") if ch.isdigit())
    if not wa_id:
        return _bad("wa_id is required")
    if request.query.get("open") == "1":
        engine.open_chat(phone_number_id, wa_id, request.query.get("name", ""))
    last = next(iter(reversed(engine.webhook_log)), None)
    return json_response({"chat": engine.chat_view(phone_number_id, wa_id), "webhook": last})


def _customer_message(engine: Engine, body: dict) -> Response:
    content = {key: body[key] for key in ("text", "image", "button", "reply", "reaction") if key in body}
    if len(content) != 1:
        return _bad("give exactly one of text, image, button, reply, reaction")
    try:
        wamid = engine.customer_message(
            phone_number_id=str(body.get("phone_number_id") or DEFAULT_PHONE_NUMBER_ID),
            wa_id=str(body.get("wa_id", "")),
            name=str(body.get("name", "")),
            context_id=body.get("context_id"),
            **content,
        )
    except (ValueError, KeyError, TypeError) as exc:
        return _bad(str(exc) or "invalid message")
    return json_response({"wamid": wamid})


# POST /_sim/templates/<action> with {"id"} or {"name"[, "language", "waba_id"]} and the action's fields.
TEMPLATE_ACTIONS = {
    "approve": ("template_approve", ()),
    "reject": ("template_reject", ("reason", "detail", "recommendation")),
    "pause": ("template_pause", ("title",)),
    "unpause": ("template_unpause", ()),
    "disable": ("template_disable", ()),
    "status": ("template_set_status", ("event", "reason", "rejection_info", "other_info", "disable_info")),
    "recategorise": ("template_recategorise", ("category", "notice")),
    "quality": ("template_quality", ("score",)),
}


def template_controls(engine: Engine, method: str, segments: list[str], body: dict) -> Response:
    """GET /_sim/templates lists them; POST /_sim/templates/add makes one as if in Meta's manager;
    POST /_sim/templates/<action> decides as Meta would and posts the webhook."""
    if not segments and method == "GET":
        return json_response({"templates": engine.templates()})
    if len(segments) != 1 or method != "POST":
        return json_response({"error": "not found"}, 404)
    action = segments[0]
    try:
        if action == "add":
            fields = ("waba_id", "name", "language", "category", "components", "status", "parameter_format", "quality")
            return json_response({"template": engine.template_add(**{k: body[k] for k in fields if k in body})})
        if action not in TEMPLATE_ACTIONS:
            return json_response({"error": f"unknown action {action!r}"}, 404)
        method_name, fields = TEMPLATE_ACTIONS[action]
        lookup = {"template_id": body.get("id"), "name": body.get("name"), "language": body.get("language")}
        lookup["waba_id"] = body.get("waba_id")
        options = {k: body[k] for k in fields if k in body}
        template = getattr(engine, method_name)(**lookup, **options)
    except TemplateNotFound as exc:
        return json_response({"error": str(exc)}, 404)
    except (KeyError, TypeError, ValueError) as exc:
        return _bad(str(exc) or "invalid request")
    return json_response({"template": template})
