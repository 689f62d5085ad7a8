"""Builders for the bodies of `POST /{phone-number-id}/messages` (cloud-api.md section 2).

They return Meta's JSON without `messaging_product`, which the client adds. `to` is the
customer's number in E.164 with `+` (without it Meta may prepend the business number's country
code); pass `recipient_user_id=` (the BSUID) when no number is known.
"""

from __future__ import annotations

from typing import Any

MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
_CAPTIONED = ("image", "video", "document")


def _recipient(to: str | None, recipient_user_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"recipient_type": "individual"}
    if to:
        digits = to.strip()
        out["to"] = digits if digits.startswith("+") else f"+{digits}"
    elif recipient_user_id:
        out["recipient"] = recipient_user_id
    else:
        raise ValueError("a message needs `to` (E.164) or `recipient_user_id` (BSUID)")
    return out


def text(
    to: str | None,
    body: str,
    reply_to: str | None = None,
    *,
    recipient_user_id: str | None = None,
    preview_url: bool = False,
) -> dict[str, Any]:
    payload = {**_recipient(to, recipient_user_id), "type": "text", "text": {"body": body, "preview_url": preview_url}}
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    return payload


def media(
    to: str | None,
    kind: str,
    media_id: str,
    caption: str = "",
    filename: str = "",
    *,
    recipient_user_id: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    if kind not in MEDIA_KINDS:
        raise ValueError(f"media kind must be one of {', '.join(MEDIA_KINDS)}, not {kind!r}")
    content: dict[str, Any] = {"id": media_id}
    if caption and kind in _CAPTIONED:
        content["caption"] = caption
    if filename and kind == "document":
        content["filename"] = filename
    payload = {**_recipient(to, recipient_user_id), "type": kind, kind: content}
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    return payload


def reaction(to: str | None, message_wamid: str, emoji: str, *, recipient_user_id: str | None = None) -> dict[str, Any]:
    """An empty `emoji` removes our reaction."""
    return {
        **_recipient(to, recipient_user_id),
        "type": "reaction",
        "reaction": {"message_id": message_wamid, "emoji": emoji},
    }


def template(
    to: str | None,
    name: str,
    language: str,
    components: list[dict[str, Any]] | None = None,
    *,
    recipient_user_id: str | None = None,
) -> dict[str, Any]:
    # Template webhooks spell languages `en-US`; sending wants `en_US`.
    body: dict[str, Any] = {"name": name, "language": {"code": language.replace("-", "_")}}
    if components:
        body["components"] = components
    return {**_recipient(to, recipient_user_id), "type": "template", "template": body}
