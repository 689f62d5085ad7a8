"""Webhook bodies in Meta's shape (cloud-api.md 1.3-1.6) and the identifiers Meta hands out."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets

import phonenumbers


def new_wamid() -> str:
    # Real wamids are "wamid." + standard base64 (with + / =); consumers must cope with that.
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + os.urandom(18)).decode()


def new_numeric_id() -> str:
    # Media and template ids are large decimal numbers on Meta's side.
    return str(10**15 + secrets.randbelow(9 * 10**15))


def bsuid(wa_id: str, portfolio: str) -> str:
    """A stable business-scoped user id ("DE.1234..."), as Meta has sent since April 2026."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id)) or "US"
    except phonenumbers.NumberParseException:
        region = "US"
    digest = hashlib.sha256(f"{portfolio}:{wa_id}".encode()).hexdigest()
    return f"{region}.{int(digest[:16], 16)}"


def encode(payload: dict) -> bytes:
    # Compact, ASCII-escaped JSON like Meta's; the signature covers exactly these bytes.
    return json.dumps(payload, separators=(",", ":")).encode()


def contact(*, wa_id: str, user_id: str, name: str) -> dict:
    return {"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}


def messages_change(
    *,
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str,
    contacts: list[dict] | None = None,
    messages: list[dict] | None = None,
    statuses: list[dict] | None = None,
    user_preferences: list[dict] | None = None,
) -> dict:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }
    for key, items in (
        ("contacts", contacts),
        ("messages", messages),
        ("statuses", statuses),
        ("user_preferences", user_preferences),
    ):
        if items:
            value[key] = items
    field = "user_preferences" if user_preferences else "messages"
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def template_status_change(*, waba_id: str, template: dict, event: str, reason: str, detail: str | None, at: int):
    value = {
        "event": event,
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "reason": reason,
        "message_template_category": template["category"],
    }
    if detail:
        value["rejection_info"] = {"reason": detail, "recommendation": "Separate parameters with descriptive text."}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": waba_id, "time": at, "changes": [{"value": value, "field": "message_template_status_update"}]}
        ],
    }


def template_ids_value(template: dict) -> dict:
    """The identifying fields every template webhook value starts with."""
    return {
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
    }


def template_status_value(*, template: dict, event: str, reason: str) -> dict:
    return {
        "event": event,
        **template_ids_value(template),
        "reason": reason,
        "message_template_category": template["category"],
    }


def template_webhook(*, waba_id: str, field: str, value: dict, at: int) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": at, "changes": [{"value": value, "field": field}]}],
    }
