"""Webhook intake under load: signed POSTs to /webhooks/whatsapp/ from wrk, against uvicorn.

It runs on a scratch PostgreSQL database, with Redis as the Celery broker and no worker
running, so only the intake (verify, one INSERT, answer 200) is measured. It prints wrk's
latency figures and checks that every distinct body was stored once.

    python bench/webhook_intake.py [--seconds 20] [--connections 32] [--workers 2] [--bodies 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "190000000000001"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inbox_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        WHATSAPP_APP_SECRET=APP_SECRET,
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 50,
        WHATSAPP_VERIFY_TOKEN="bench",
        ALLOWED_HOSTS="127.0.0.1",
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="false",  # plain http on 127.0.0.1: no https-only cookies either
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_ROOT=str(ROOT / "staticfiles"),
    )
    return env


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=environment(), check=True, stdout=subprocess.DEVNULL)


def reset_database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    # The bench's Redis database too: channel groups of earlier runs' sockets would otherwise
    # stay for a day, and every push would fan out to them.
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    manage("collectstatic", "--noinput")
    manage("migrate", "--noinput")
    manage("add_number", PHONE_NUMBER_ID, "+49 30 9999999", "--waba-id", "290000000000001")


def inbound_body(index: int, *, customers: int | None = None, text: str | None = None, now: int | None = None) -> bytes:
    """A realistic inbound text webhook, unique per index (Meta's compact serialisation).

    `customers` spreads the messages over that many senders (default: a sender per index).
    """
    sender = index % customers if customers else index
    wa_id = f"49151{sender:08d}" if customers else f"4915{index % 1000:03d}{index:07d}"[-13:]
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "290000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "49309999999", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": f"Kunde {sender}"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.bench{uuid.uuid4().hex}",
                                    "timestamp": str(now or int(time.time())),
                                    "type": "text",
                                    "text": {"body": text or f"Hallo, wo ist meine Bestellung {index}?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def write_bodies(path: Path, count: int) -> None:
    with path.open("w") as out:
        for index in range(count):
            body = inbound_body(index)
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.write(signature + "\n" + body.decode() + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stored_events() -> int:
    out = subprocess.run(
        ["psql", DATABASE_URL, "-tAc", "SELECT count(*) FROM webhooks_webhookevent"], capture_output=True, text=True
    )
    return int(out.stdout.strip() or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bodies", type=int, default=20000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    reset_database()
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    bodies = workdir / "bodies.txt"
    write_bodies(bodies, args.bodies)
    port = free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=environment(),
    )
    try:
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp/"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        result = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(ROOT / "bench" / "webhook_intake.lua"),
                url,
                "--",
                str(bodies),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(result.stdout)
    summary = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    figures = dict(item.split("=") for item in summary.split()[1:])
    requests = int(figures["requests"])
    stored = stored_events()
    # wrk counts completed requests; the few still in flight when it stops are stored too.
    print(
        f"webhook intake: {requests / float(figures['seconds']):.0f} req/s over {args.connections} connections, "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, over 1 s {figures['over_1s_pct']}%, "
        f"non-2xx {figures['non_2xx']}; wrk completed {requests} requests, {stored} distinct events stored"
    )


if __name__ == "__main__":
    main()
