"""Test helpers shared by the simulator tests and the phone-page browser test."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

APP_SECRET = "test_app_secret"
TOKEN = "test-access-token"
PNID = "106540352242922"
WABA = "102290129340398"
CUSTOMER = "4915112345678"


def wait_for(predicate, timeout: float = 5.0, what: str = "condition"):
    """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Receiver:
    """Captures each POST's headers and exact bytes; answers `status` (200 unless changed)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/whatsapp/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def payloads(self) -> list[dict]:
        with self._lock:
            return [json.loads(body) for _headers, body in self.requests]

    def changes(self, field: str = "messages") -> list[dict]:
        return [c["value"] for p in self.payloads for e in p["entry"] for c in e["changes"] if c["field"] == field]

    def statuses(self, wamid: str) -> list[dict]:
        return [s for v in self.changes() for s in v.get("statuses", []) if s["id"] == wamid]

    def messages(self) -> list[dict]:
        return [m for v in self.changes() for m in v.get("messages", [])]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def text_to(body: str, to: str = "+" + CUSTOMER) -> dict:
    return {"to": to, "type": "text", "text": {"body": body}}
