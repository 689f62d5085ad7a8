"""A tiny fake Graph API over real HTTP (http.server in a thread) for client and media tests.

Responses can be scripted per (method, path); otherwise media ids answer with a media URL on
this server and that URL serves some bytes. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "v26.0"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes -> raw, None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    omit_length: bool = False  # stream the body without Content-Length, closing the connection


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def meta_error(code: int, message: str = "Error", *, status: int = 400, details: str = "") -> Reply:
    return Reply(
        status=status,
        body={
            "error": {
                "message": f"({code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details or message},
                "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
            }
        },
    )


class FakeGraph:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.scripted: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.files: dict[str, bytes] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGraph:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripted[(method, path)].extend(replies)

    def default_reply(self, method: str, path: str) -> Reply:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[0] == "files" and len(parts) == 2:
            content = self.files.get(parts[1], f"media-{parts[1]}".encode())
            return Reply(body=content, headers={"Content-Type": "application/octet-stream"})
        if method == "GET" and parts[0] == VERSION and len(parts) == 2:
            media_id = parts[1]
            size = len(self.files.get(media_id, f"media-{media_id}".encode()))
            return Reply(
                body={
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}/files/{media_id}",
                    "mime_type": "image/jpeg",
                    "sha256": "abc",
                    "file_size": str(size),
                    "id": media_id,
                }
            )
        return Reply(status=404, body={"error": {"message": "Unknown path", "code": 100}})


def _handler_for(graph: FakeGraph):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            graph.requests.append(Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body))
            queue = graph.scripted.get((self.command, parts.path))
            reply = queue.popleft() if queue else graph.default_reply(self.command, parts.path)
            if reply.delay:
                time.sleep(reply.delay)
            payload = reply.body
            if isinstance(payload, dict | list):
                payload = json.dumps(payload).encode()
                reply.headers.setdefault("Content-Type", "application/json")
            payload = payload or b""
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.omit_length:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_DELETE = _handle

    return Handler
