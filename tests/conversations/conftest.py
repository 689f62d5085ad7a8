"""Builders for Meta's parsed webhook parts, and a fake Cloud API client (the one allowed seam).

The builders mirror `whatsapp.schemas` attribute by attribute (docs/seams.md), so the receive
services are exercised exactly as webhook processing calls them.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

_seq = itertools.count(1)


def inbound(
    *,
    wa_id: str | None = "4915112345678",
    user_id: str | None = None,
    at: datetime,
    text: str = "Hallo",
    type: str = "text",
    wamid: str | None = None,
    context_id: str | None = None,
    reaction_to: str | None = None,
    raw: dict | None = None,
    media=None,
):
    return SimpleNamespace(
        id=wamid or f"wamid.IN{next(_seq)}",
        from_wa_id=wa_id,
        from_user_id=user_id,
        timestamp=at,
        type=type,
        text=text,
        context_id=context_id,
        reaction_to=reaction_to,
        reaction_emoji=text if type == "reaction" else None,
        media=media,
        raw=raw or {"type": type},
    )


def profile(*, wa_id: str | None = "4915112345678", user_id: str | None = None, name: str = "Jana Schmidt"):
    return SimpleNamespace(wa_id=wa_id, user_id=user_id, name=name, username="")


def status(*, wamid: str, value: str, at: datetime, code: int | None = None, title: str = "", details: str = ""):
    errors = [SimpleNamespace(code=code, title=title, message=title, details=details)] if code else []
    return SimpleNamespace(
        id=wamid,
        status=value,
        timestamp=at,
        recipient_id=None,
        recipient_user_id=None,
        pricing=None,
        errors=errors,
        raw={},
    )


def preference(*, value: str, at: datetime, wa_id: str | None = "4915112345678", user_id: str | None = None):
    return SimpleNamespace(wa_id=wa_id, user_id=user_id, category="marketing_messages", value=value, timestamp=at)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeClient:
    """Counts what would reach Meta; thread-safe so concurrent senders can share it."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []
        self.read: list[str] = []
        self.uploads: list[tuple[str, str]] = []
        self.fail_with: list[Exception] = []
        self._lock = threading.Lock()

    def send_message(self, *, phone_number_id: str, payload: dict) -> str:
        with self._lock:
            if self.fail_with:
                raise self.fail_with.pop(0)
            self.sent.append((phone_number_id, payload))
            return f"wamid.OUT{len(self.sent)}-{next(_seq)}"

    def mark_read(self, *, phone_number_id: str, wamid: str, typing: bool = False) -> None:
        with self._lock:
            self.read.append(wamid)

    def upload_media(self, *, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        with self._lock:
            self.uploads.append((mime_type, filename))
            return f"media-{next(_seq)}"


@pytest.fixture
def fake_client(monkeypatch):
    """Replace `whatsapp.client.get_client` (the one seam) with a counting fake."""
    client = FakeClient()

    monkeypatch.setattr("whatsapp.client.get_client", lambda: client)
    return client


def receive(number, *, at: datetime, wa_id: str = "4915112345678", text: str = "Hallo", name: str = "Jana"):
    """A customer's message through the real receive service; returns the stored message."""
    from conversations.services import inbound_message_receive

    return inbound_message_receive(
        number=number, message=inbound(at=at, wa_id=wa_id, text=text), profile=profile(wa_id=wa_id, name=name)
    )


@pytest.fixture
def api_client(client):
    """A test client signed in via the browser session (GETs need no CSRF token)."""
    return client


def bearer(user) -> dict:
    from inbox.services import api_token_create

    _token, raw = api_token_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
