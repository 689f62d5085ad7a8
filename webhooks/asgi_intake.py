"""Meta's webhook POST served in front of Django: size, signature, a (group-committed) INSERT, 200.

Under load the intake is the hot path (Meta posts every message and every status), and Django's
request cycle (a thread hop, a dozen middlewares, a pooled sync connection) costs far more than
the work itself. This ASGI wrapper answers `POST /webhooks/whatsapp/` on the event loop with
psycopg's async pool and an autocommit `INSERT ... ON CONFLICT DO NOTHING` (shared by every
webhook that arrives while the previous one is being written: a group commit); everything else,
and every case it does not handle itself, goes on to Django unchanged:
- the single-process default (no processor runs: the Django view applies what it stored);
- a database other than PostgreSQL;
- plain http while SECURE_SSL_REDIRECT is on (Django answers with the redirect).

It keeps what Django would do for this path: the host is checked against ALLOWED_HOSTS, the
body size against WEBHOOK_MAX_BODY_BYTES, the signature over the raw bytes, and the answer
carries the security headers SecurityMiddleware and XFrameOptionsMiddleware would add.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from webhooks import intake
from whatsapp import signature

logger = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp/"
# Every webhook waiting at the moment goes in one statement and one commit (group commit): under
# load, rows arrive while an INSERT is in flight and ride the next one; alone, a row is written at
# once. PostgreSQL then commits (and flushes its log) once per batch instead of once per webhook.
INSERT = (
    "INSERT INTO webhooks_webhookevent (body, dedupe_key, headers, received_at, state, reason, fields, notes, "
    "processed_at, attempts) "
    "SELECT body, dedupe_key, headers::jsonb, received_at, 'received', '', '[]', '[]', NULL, 0 "
    "FROM unnest(%s::bytea[], %s::text[], %s::text[], %s::timestamptz[]) AS r(body, dedupe_key, headers, received_at) "
    "ON CONFLICT (dedupe_key) DO NOTHING"
)
BATCH_MAX = 200
_KEPT = {name.lower().encode(): name for name in intake.KEPT_HEADERS}
APPLICATION_NAME = "inbox webhook intake"


def _serves_fast() -> bool:
    return (
        not settings.WEBHOOKS_PROCESS_INLINE
        and connections["default"].vendor == "postgresql"
        and getattr(settings, "WEBHOOKS_FAST_INTAKE", True)
    )


class WebhookIntake:
    def __init__(self, app) -> None:
        self.app = app
        self._pools: dict[int, object] = {}
        self._batches: dict[int, _GroupCommit] = {}

    async def __call__(self, scope, receive, send):
        is_intake = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH
        if is_intake and _serves_fast() and self._secure_enough(scope):
            return await self._receive(scope, receive, send)
        return await self.app(scope, receive, send)

    def _secure_enough(self, scope) -> bool:
        return not settings.SECURE_SSL_REDIRECT or scope.get("scheme") == "https" or self._forwarded_https(scope)

    def _forwarded_https(self, scope) -> bool:
        header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if not header:
            return False
        wanted = header[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        return any(key == wanted and value.decode("latin-1") == header[1] for key, value in scope["headers"])

    async def _receive(self, scope, receive, send):
        secure = scope.get("scheme") == "https" or self._forwarded_https(scope)
        answer = functools.partial(_answer, send, secure=secure)
        headers = {}
        for key, value in scope["headers"]:
            headers.setdefault(key, value)
        host = headers.get(b"host", b"").decode("latin-1")
        domain, _port = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return await answer(400, b"Bad Request")
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await answer(413, b"Payload Too Large")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await answer(413, b"Payload Too Large")
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        header = headers.get(b"x-hub-signature-256", b"").decode("latin-1")
        if not signature.verify(body, header, settings.WHATSAPP_APP_SECRET):
            await sync_to_async(intake.signature_refusal_record)()
            logger.warning("webhook refused: missing or wrong X-Hub-Signature-256 (%d bytes)", len(body))
            return await answer(401, b"Unauthorized")
        kept = {
            name: intake.clean_text(value.decode("latin-1"), 512)
            for key, value in headers.items()
            if (name := _KEPT.get(key))
        }
        row = (body, intake.dedupe_key(body), json.dumps(kept), timezone.now())
        try:
            await self._store(row)
        except Exception:  # not stored: Meta must retry later (it does, for 7 days)
            logger.exception("webhook not stored")
            return await answer(503, b"Service Unavailable")
        return await answer(200, b"OK")

    async def _store(self, row: tuple) -> None:
        """Stored (committed) when this returns; raises if it could not be."""
        loop_id = id(asyncio.get_running_loop())
        batch = self._batches.get(loop_id)
        if batch is None:
            batch = self._batches[loop_id] = _GroupCommit(self._insert)
        await batch.store(row)

    async def _insert(self, rows: list[tuple]) -> None:
        """The INSERT of these rows, tried again once on a fresh connection if the pooled one was dead.

        The pool does not check a connection before handing it out: that is a round trip per
        batch (a quarter of the intake's time in a profile under wrk). After a PostgreSQL
        restart every idle connection is dead, so the first failure has the pool check them all,
        and the retry is safe: the INSERT does nothing for rows the first one did commit.
        """
        columns = [list(column) for column in zip(*rows, strict=True)]
        pool = await self._pool()
        try:
            async with pool.connection() as conn:
                await conn.execute(INSERT, columns)
        except psycopg.OperationalError:
            await pool.check()
            async with pool.connection() as conn:
                await conn.execute(INSERT, columns)

    async def _pool(self):
        """One async pool per event loop (a worker process has one; tests start several)."""
        loop_id = id(asyncio.get_running_loop())
        pool = self._pools.get(loop_id)
        if pool is None:
            from psycopg_pool import AsyncConnectionPool

            params = connections["default"].get_connection_params()
            for key in ("cursor_factory", "context", "prepare_threshold"):
                params.pop(key, None)
            # Named in pg_stat_activity, apart from the Django pool's connections.
            params.setdefault("application_name", APPLICATION_NAME)
            pool = AsyncConnectionPool(
                kwargs={**params, "autocommit": True},
                min_size=1,
                max_size=max(2, getattr(settings, "WEBHOOKS_INTAKE_POOL_SIZE", 16)),
                open=False,
            )
            await pool.open()
            self._pools[loop_id] = pool
        return pool


class _GroupCommit:
    """Rows handed in while a batch is being written wait and go together in the next one.

    One flushing task at a time per event loop; each caller awaits its own row's outcome. If a
    batch fails for a reason other than the connection (which `insert` already retried), its
    rows are written one by one, so a row PostgreSQL refuses fails alone and the others are
    still stored.
    """

    def __init__(self, insert) -> None:
        self._insert = insert
        self._waiting: list[tuple[tuple, asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None

    async def store(self, row: tuple) -> None:
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((row, stored))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        await stored

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:BATCH_MAX], self._waiting[BATCH_MAX:]
                await self._write(batch)
        finally:
            self._flushing = None

    async def _write(self, batch: list[tuple[tuple, asyncio.Future]]) -> None:
        try:
            await self._insert([row for row, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for row, stored in batch:
                try:
                    await self._insert([row])
                except Exception as single:
                    _settle(stored, single)
                else:
                    _settle(stored, None)
            return
        for _, stored in batch:
            _settle(stored, None)


def _settle(stored: asyncio.Future, error: BaseException | None) -> None:
    if stored.done():  # the request went away meanwhile
        return
    if error is None:
        stored.set_result(None)
    else:
        stored.set_exception(error)


SECURITY_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


async def _answer(send, status: int, body: bytes, *, secure: bool) -> None:
    headers = list(SECURITY_HEADERS)
    if secure and settings.SECURE_HSTS_SECONDS:
        headers.append((b"strict-transport-security", f"max-age={settings.SECURE_HSTS_SECONDS}".encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
