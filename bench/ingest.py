"""Inbound at scale: signed text webhooks from wrk into the production shape, until applied.

The production shape on this machine: uvicorn (2 workers, DEBUG off) storing webhooks, and
`process_webhooks` applying them, on a scratch PostgreSQL database and Redis. wrk posts
distinct pre-signed bodies (one text message each, from 300 customers) for --seconds at
--connections; then the processor drains the queue. A bare ASGI hello-world on the same uvicorn
settings is measured first, in the same run, as the ceiling of this machine.

Prints one JSON line per figure: acks/s, ack p50/p99 (ms), processed msg/s (stored messages over
the time from the first POST to the last one applied), lost and duplicated messages, and the
ratio of acks/s to the hello-world's requests/s.

    python bench/ingest.py [--seconds 15] [--connections 64] [--processors 1] [--batch 200]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from webhook_intake import (  # noqa: E402
    APP_SECRET,
    DATABASE_URL,
    PYTHON,
    ROOT,
    environment,
    free_port,
    inbound_body,
    reset_database,
)

CUSTOMERS = 300


def body_for(index: int, *, now: int) -> bytes:
    return inbound_body(index, customers=CUSTOMERS, text=f"Nachricht {index}: wo ist meine Bestellung?", now=now)


def write_bodies(path: Path, count: int) -> None:
    now = int(time.time())
    with path.open("w") as out:
        for index in range(count):
            body = body_for(index, now=now)
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.write(signature + "\n" + body.decode() + "\n")


def sql(query: str) -> str:
    out = subprocess.run(["psql", DATABASE_URL, "-tAc", query], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def uvicorn(app: str, port: int, workers: int, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "uvicorn", app, "--port", str(port), "--workers", str(workers), "--lifespan", "off",
         "--log-level", os.environ.get("BENCH_UVICORN_LOG", "warning"), "--no-access-log"],
        cwd=cwd,
        env=environment(),
        start_new_session=True,  # its own process group, so a stuck run's workers can be killed with it
    )  # fmt: skip


def wrk(url: str, *, seconds: int, connections: int, bodies: Path | None) -> dict:
    if bodies is not None:
        script = ["-s", str(HERE / "webhook_intake.lua"), url, "--", str(bodies)]
    else:
        script = ["-s", str(HERE / "hello.lua"), url]
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *script],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return {key: float(value) for key, value in (item.split("=") for item in summary.split()[1:])}


def emit(name: str, value, unit: str, **extra) -> None:
    print(json.dumps({"scenario": "ingest", "figure": name, "value": value, "unit": unit, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processors", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--bodies", type=int, default=150_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    # The ceiling: a bare ASGI app on the same uvicorn settings.
    port = free_port()
    hello = uvicorn("hello_asgi:app", port, args.workers, cwd=HERE)
    try:
        wait_for_port(port)
        baseline = wrk(f"http://127.0.0.1:{port}/", seconds=args.seconds, connections=args.connections, bodies=None)
    finally:
        hello.terminate()
        hello.wait(timeout=30)
    hello_rps = baseline["requests"] / baseline["seconds"]
    emit("hello_world_requests_per_s", round(hello_rps), "req/s", p99_ms=baseline["p99_ms"])

    reset_database()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    bodies = workdir / "bodies.txt"
    write_bodies(bodies, args.bodies)
    port = free_port()
    server = uvicorn("config.asgi:application", port, args.workers)
    processors = [
        subprocess.Popen(
            [PYTHON, "manage.py", "process_webhooks", "--batch", str(args.batch), "--poll", "0.2"],
            cwd=ROOT,
            env=environment(),
        )
        for _ in range(args.processors)
    ]
    try:
        wait_for_port(port)
        started = time.monotonic()
        result = wrk(
            f"http://127.0.0.1:{port}/webhooks/whatsapp/",
            seconds=args.seconds,
            connections=args.connections,
            bodies=bodies,
        )
        while args.processors and int(sql("SELECT count(*) FROM webhooks_webhookevent WHERE state = 'received'")):
            time.sleep(0.05)
        applied_after = time.monotonic() - started
    finally:
        for process in (server, *processors):
            process.terminate()
        for process in (server, *processors):
            process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    acked = int(result["requests"] - result["non_2xx"])
    distinct_sent = min(int(result["requests"]), args.bodies)
    events = int(sql("SELECT count(*) FROM webhooks_webhookevent"))
    messages = int(sql("SELECT count(*) FROM conversations_message WHERE direction = 'in'"))
    distinct_wamids = int(sql("SELECT count(DISTINCT wamid) FROM conversations_message WHERE direction = 'in'"))
    not_processed = int(sql("SELECT count(*) FROM webhooks_webhookevent WHERE state <> 'processed'"))
    acks_per_s = acked / result["seconds"]
    emit("acks_per_s", round(acks_per_s), "req/s", connections=args.connections, workers=args.workers)
    emit("ack_p50", result["p50_ms"], "ms")
    emit("ack_p99", result["p99_ms"], "ms")
    if args.processors:
        emit("processed_per_s", round(messages / applied_after), "msg/s", processors=args.processors, batch=args.batch)
    emit("lost", max(0, min(acked, distinct_sent) - events), "messages", events_not_processed=not_processed)
    emit("duplicated", messages - distinct_wamids, "messages", messages=messages, events=events)
    emit("ratio_to_hello_world", round(acks_per_s / hello_rps, 2), "x")
    emit("database", DATABASE_URL.rsplit("/", 1)[1], "")


if __name__ == "__main__":
    main()
