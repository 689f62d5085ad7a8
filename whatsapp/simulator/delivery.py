"""Background machinery: a clock-ordered scheduler and an in-order signed webhook poster.

One scheduler thread runs every state transition (sent, delivered, read, template review) in due
order, and one poster thread sends the resulting webhooks first-in first-out, so a message's
statuses leave in the order sent -> delivered -> read, as the inbox would most often see them.
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import hmac
import itertools
import logging
import threading
import time
from collections.abc import Callable

import requests

logger = logging.getLogger(__name__)

try:  # the boundary's own signer, when the whatsapp package has it
    from whatsapp.signature import sign as _sign
except ImportError:  # pragma: no cover - the same two lines
    _sign = None


def sign(body: bytes, secret: str) -> str:
    if _sign is not None:
        return _sign(body, secret)
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Scheduler:
    """Runs callables at monotonic due times, one at a time, in due order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="simulator-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), fn))
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout=wait)
                if self._stopping:
                    return
                _due, _seq, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:  # a broken transition must not stop the simulator
                logger.exception("simulator: scheduled transition failed")


class WebhookPoster:
    """Posts signed webhook bodies in order; retries a refused one a few times, then moves on.

    Meta retries for 7 days; a local simulator gives up after a few seconds so that a stopped
    inbox does not hold up everything queued behind it. Every attempt is recorded in `log`.
    """

    RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)

    def __init__(self, url: str, app_secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self._secret = app_secret
        self._timeout = timeout
        self._queue: collections.deque[tuple[str, bytes, Callable[[int | None], None] | None]] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._session = requests.Session()
        self.log: collections.deque[dict] = collections.deque(maxlen=500)
        self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def post(self, kind: str, body: bytes, on_done: Callable[[int | None], None] | None = None) -> None:
        """Queue a body; `on_done(http_status or None)` runs after its last attempt."""
        with self._cond:
            self._queue.append((kind, body, on_done))
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._queue:
                    self._cond.wait()
                if self._stopping:
                    return
                kind, body, on_done = self._queue.popleft()
                self._busy = True
            try:
                status = self._deliver(kind, body)
                if on_done is not None:
                    on_done(status)
            except Exception:
                logger.exception("simulator: webhook delivery failed")
            finally:
                with self._cond:
                    self._busy = False

    def _deliver(self, kind: str, body: bytes) -> int | None:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, self._secret)}
        for attempt, pause in enumerate((0.0, *self.RETRY_DELAYS), start=1):
            if pause:
                with self._cond:  # an interruptible pause: stop() must not wait for retries
                    if self._cond.wait_for(lambda: self._stopping, timeout=pause):
                        return None
            entry = {"kind": kind, "attempt": attempt, "at": time.time(), "status": None, "error": ""}
            try:
                response = self._session.post(self.url, data=body, headers=headers, timeout=self._timeout)
                entry["status"] = response.status_code
            except requests.RequestException as exc:
                entry["error"] = type(exc).__name__
            self.log.append(entry)
            if entry["status"] == 200:
                return 200
            logger.warning(
                "simulator: webhook %s to %s failed (attempt %s): %s",
                kind,
                self.url,
                attempt,
                entry["status"] or entry["error"],
            )
        return entry["status"]
