"""The Graph API endpoints under /{version}/, as cloud-api.md sections 2-3 describe them."""

from __future__ import annotations

import hmac
import re

from . import errors
from .engine import Engine, SendRefused
from .httpkit import Request, Response, json_response

VERSION_RE = re.compile(r"^v\d+\.\d+$")


def authorized(engine: Engine, request: Request) -> bool:
    given = request.header("authorization")
    want = f"Bearer {engine.access_token}"
    return bool(engine.access_token) and hmac.compare_digest(given.encode(), want.encode())


def unauthorized() -> Response:
    return json_response(errors.error_body(190), 401)


def refused(exc: SendRefused) -> Response:
    status, body = exc.response()
    return json_response(body, status)


def handle(engine: Engine, request: Request, segments: list[str]) -> Response:
    """`segments` is the path after the version, e.g. ["1065...", "messages"]."""
    if not authorized(engine, request):
        return unauthorized()
    try:
        return _route(engine, request, segments)
    except SendRefused as exc:
        return refused(exc)


def _route(engine: Engine, request: Request, segments: list[str]) -> Response:
    method = request.method
    if len(segments) == 2 and segments[1] == "messages" and method == "POST":
        body = request.json()
        if body is None:
            raise SendRefused(100, "The request body is not a JSON object.")
        if body.get("messaging_product") != "whatsapp":
            raise SendRefused(100, "The parameter messaging_product must be whatsapp.")
        if body.get("status") == "read":
            return json_response(engine.mark_read(segments[0], body))
        return json_response(engine.send(segments[0], body))
    if len(segments) == 2 and segments[1] == "media" and method == "POST":
        upload = request.form().get("file")
        if upload is None:
            raise SendRefused(131008, "The parameter file is required.")
        content, content_type, filename = upload
        mime = request.form().get("type", (b"", "", ""))[0].decode() or content_type
        return json_response({"id": engine.media_upload(content, mime, filename)})
    if len(segments) == 2 and segments[1] == "message_templates":
        return _templates(engine, request, segments[0])
    if len(segments) == 1 and method == "POST":
        # POST /{template_id}: edit a template's content (it goes back into review).
        body = request.json()
        answer = engine.template_edit(segments[0], body or {})
        if not answer:
            raise SendRefused(100, f"Object with ID '{segments[0]}' does not exist.")
        return json_response(answer)
    if len(segments) == 1 and method == "GET":
        info = engine.media_info(segments[0]) or engine.phone_number_info(segments[0])
        if info is None:
            raise SendRefused(100, f"Unsupported get request. Object with ID '{segments[0]}' does not exist.")
        return json_response(info)
    if len(segments) == 1 and method == "DELETE":
        if not engine.media_delete(segments[0]):
            raise SendRefused(100, f"Object with ID '{segments[0]}' does not exist.")
        return json_response({"success": True})
    raise SendRefused(100, "Unsupported request.")


def _templates(engine: Engine, request: Request, waba_id: str) -> Response:
    if request.method == "POST":
        body = request.json()
        if body is None:
            raise SendRefused(100, "The request body is not a JSON object.")
        return json_response(engine.template_create(waba_id, body))
    if request.method == "GET":
        try:
            limit = max(1, min(int(request.query.get("limit", "25")), 1000))
        except ValueError:
            raise SendRefused(100, "limit must be a number.") from None
        return json_response(
            engine.template_list(
                waba_id,
                name=request.query.get("name"),
                status=request.query.get("status"),
                limit=limit,
                after=request.query.get("after"),
            )
        )
    if request.method == "DELETE":
        return json_response(
            engine.template_delete(waba_id, name=request.query.get("name"), hsm_id=request.query.get("hsm_id"))
        )
    raise SendRefused(100, "Unsupported request.")


def download(engine: Engine, request: Request, media_id: str) -> Response:
    """GET of the short-lived media URL; like Meta's, it needs the Bearer token too."""
    if not authorized(engine, request):
        return unauthorized()
    media = engine.media(media_id)
    if media is None or not engine.check_media_url(
        media_id, request.query.get("exp", ""), request.query.get("sig", "")
    ):
        return json_response(errors.error_body(100, "The media URL is invalid or expired."), 404)
    return Response(200, media.content, media.mime_type)
