"""Building, signing and posting webhook bodies the way Meta does."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from conversations.models import BusinessNumber, Contact, Conversation, Message
from whatsapp.signature import sign

PAYLOADS_DIR = Path("/work/shared/payloads")
PAYLOAD_FILES = sorted(PAYLOADS_DIR.rglob("*.json"))


def url() -> str:
    return reverse("webhooks:whatsapp")


def fresh_wamid() -> str:
    return f"wamid.test.{uuid.uuid4().hex}"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def patch(envelope: dict[str, Any], number: BusinessNumber, *, fresh_ids: bool = True) -> dict[str, Any]:
    """Point a fixture at `number` and give every message and status its own wamid."""
    data = copy.deepcopy(envelope)
    for entry in data.get("entry") or []:
        entry["id"] = number.waba_id
        for change in entry.get("changes") or []:
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            if isinstance(value.get("metadata"), dict):
                value["metadata"]["phone_number_id"] = number.phone_number_id
                value["metadata"]["display_phone_number"] = number.display_phone_number
            if change.get("field") == "phone_number_quality_update":  # Meta names the number by its digits
                value["display_phone_number"] = number.display_phone_number
            if fresh_ids:
                for key in ("messages", "statuses"):
                    for part in value.get(key) or []:
                        if isinstance(part, dict) and "id" in part:
                            part["id"] = fresh_wamid()
    return data


def post(client, body: bytes | dict, *, secret: str | None = None, signature: str | None = None, **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature if signature is not None else sign(raw, secret or settings.WHATSAPP_APP_SECRET)
    return client.post(
        url(), data=raw, content_type="application/json", headers={"X-Hub-Signature-256": header}, **extra
    )


def envelope(*changes: dict[str, Any], waba_id: str = "1") -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": list(changes)}]}


def messages_change(number: BusinessNumber, **value: Any) -> dict[str, Any]:
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": number.display_phone_number,
                "phone_number_id": number.phone_number_id,
            },
            **value,
        },
    }


def text_message(wamid: str, *, wa_id: str = "4915112345678", body: str = "Hallo", ts: int = 1790417200) -> dict:
    return {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}


def status_part(wamid: str, status: str, *, ts: int = 1790417300, code: int | None = None, **extra) -> dict:
    part = {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": "4915112345678", **extra}
    if code is not None:
        part["errors"] = [{"code": code, "title": "Failed", "message": "Failed", "error_data": {"details": "x"}}]
    return part


def outbound_message(number: BusinessNumber, *, wamid: str, wa_id: str = "4915112345678") -> Message:
    """An outbound message we 'sent', so status webhooks have something to apply to."""
    contact, _ = Contact.objects.get_or_create(wa_id=wa_id)
    conversation, _ = Conversation.objects.get_or_create(number=number, contact=contact)
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        type="text",
        text="Hi",
        wamid=wamid,
        status=Message.Status.SENDING,
    )


def unix(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp())
