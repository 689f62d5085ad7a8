"""`Simulator`: the fake Cloud API on a real HTTP port (stdlib ThreadingHTTPServer).

sim = Simulator(webhook_url=..., app_secret=..., access_token=..., status_delay=0.0)
sim.start(port=0)        # 0 = a free port; sim.url is what WHATSAPP_GRAPH_URL points at
...
sim.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import control, graph
from .engine import Engine
from .httpkit import Request, Response, json_response

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {"phone.css": "text/css", "phone.js": "text/javascript"}
MAX_BODY = 20 * 1024 * 1024


class Simulator(Engine):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.base_url

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Simulator:
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        bound_port = self._httpd.server_address[1]
        self.base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound_port}"
        self.scheduler.start()
        self.poster.start()
        # A short poll interval keeps stop() quick (shutdown waits for the serve loop to notice).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.scheduler.stop()
        self.poster.stop()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once no webhook is queued or in flight (scheduled future events aside)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poster.idle():
                return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> Simulator:
        return self if self._httpd else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --------------------------------------------------------------------------- routing

    def dispatch(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if not segments and request.method == "GET":
            return Response(200, (STATIC_DIR / "phone.html").read_bytes(), "text/html; charset=utf-8")
        head = segments[0] if segments else ""
        if head == "static" and len(segments) == 2 and segments[1] in STATIC_FILES:
            content_type = STATIC_FILES[segments[1]] + "; charset=utf-8"
            return Response(200, (STATIC_DIR / segments[1]).read_bytes(), content_type)
        if head == "_sim":
            return control.handle(self, request, segments[1:])
        if head == "_media" and len(segments) == 2 and request.method == "GET":
            return graph.download(self, request, segments[1])
        if graph.VERSION_RE.match(head) and len(segments) >= 2:
            return graph.handle(self, request, segments[1:])
        return json_response({"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}}, 404)


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "WhatsAppSimulator/1.0"
        # The status line and headers go out in one write and the body in another: with Nagle's
        # algorithm on, the body waited for the client's delayed ACK, 40 ms per call on a kept-
        # alive connection (bench/send.py measured that stall, not our sender).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._write(json_response({"error": {"message": "Request too large", "code": 100}}, 413))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                response = sim.dispatch(Request(self.command, self.path, headers, body))
            except Exception:
                logger.exception("simulator: %s %s failed", self.command, self.path.split("?")[0])
                response = json_response({"error": {"message": "simulator error", "code": 1}}, 500)
            self._write(response)

        def _write(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", response.headers.get("Cache-Control", "no-store"))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args) -> None:
            # The request line only (never headers, so never the token); quiet unless debugging.
            logger.debug("simulator: " + format, *args)

    return Handler
