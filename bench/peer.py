"""The inbox's intake beside a simple peer: django-meta-whatsapp on gunicorn, same bodies, same wrk.

The peer is the PyPI package django-meta-whatsapp (pinned below), installed into its own venv
outside the repository ($BENCH_PEER_VENV, default /tmp/bench-peer-venv; created on the first run,
reused afterwards), served by a minimal Django project (bench/peer/: settings, URLs, WSGI) copied
into a temporary directory, on gunicorn with 2 sync workers (the package's WSGI views, gunicorn's
default worker), DEBUG off, on the scratch database `inbox_bench_peer`. It stores each message
inside the request: a webhook log row, then the conversation, the contact and the message.

wrk posts the bodies bench/ingest.py posts (one text message each from 300 customers, signed
with the same app secret; the peer does not check the signature, see bench/peer/settings.py)
for --seconds at --connections, with wrk's timeout raised to 30 s (see wrk()). Then
bench/ingest.py runs as it is, in a subprocess, on its own scratch database
(`inbox_bench_peer_ours`) and Redis db 15, and its JSON lines are read.

Prints one JSON line per figure for each side (`side`: `peer` or `ours`), each with the 1-minute
load average when that side's run ended, then the ratios of ours to the peer's (processed msg/s
and acks/s).

    python bench/peer.py [--seconds 15] [--connections 64] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import free_port, wait_for_port, write_bodies  # noqa: E402
from webhook_intake import PHONE_NUMBER_ID  # noqa: E402

# The versions this comparison was measured with; Django is the inbox's own version.
PEER_PACKAGES = [
    "django-meta-whatsapp==1.1.0",
    "Django==5.2.19",
    "gunicorn==27.0.1",
    "psycopg[binary]==3.3.9",
]
PEER_VENV = Path(os.environ.get("BENCH_PEER_VENV", "/tmp/bench-peer-venv"))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PEER_DATABASE_URL = f"{POSTGRES}/inbox_bench_peer"
OURS_DATABASE_URL = f"{POSTGRES}/inbox_bench_peer_ours"
OURS_REDIS_URL = os.environ.get("BENCH_PEER_REDIS_URL", "redis://127.0.0.1:6379/15")

MESSAGES = "django_meta_whatsapp_whatsappmessage"
CONVERSATIONS = "django_meta_whatsapp_whatsappconversation"
WEBHOOK_LOG = "django_meta_whatsapp_whatsappwebhooklog"


def emit(side: str, figure: str, value, unit: str, **extra) -> None:
    line = {"scenario": "peer", "side": side, "figure": figure, "value": value, "unit": unit, **extra}
    print(json.dumps(line), flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def wrk(url: str, *, seconds: int, connections: int, bodies: Path) -> dict[str, float]:
    """ingest.py's wrk run (same Lua script, threads and connections) with a longer timeout.

    wrk drops a request after 2 s by default and leaves it out of the latencies, which would cut
    the peer's p99 at 2 s when it queues that long; 30 s (gunicorn's worker timeout) keeps the
    tail honest. Ours answers far below either, so its figures do not depend on this.
    """
    script = ["-s", str(HERE / "webhook_intake.lua"), url, "--", str(bodies)]
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", *script]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return {key: float(value) for key, value in (item.split("=") for item in summary.split()[1:])}


def peer_venv() -> Path:
    """The peer's venv, created once; pip leaves it alone when the pins are already installed."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEER_PACKAGES],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return python


def peer_project(workdir: Path) -> Path:
    """A throwaway Django project (`peerproject`) from the files in bench/peer/."""
    package = workdir / "peerproject"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("settings.py", "urls.py", "wsgi.py"):
        shutil.copy(HERE / "peer" / name, package / name)
    return workdir


def peer_environment(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(project),
        DJANGO_SETTINGS_MODULE="peerproject.settings",
        PEER_DATABASE_URL=PEER_DATABASE_URL,
        PEER_SECRET_KEY="bench-peer-" + "x" * 50,
        PEER_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
    )
    return env


def peer_sql(query: str) -> int:
    out = subprocess.run(["psql", PEER_DATABASE_URL, "-tAc", query], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def reset_peer_database(python: Path, env: dict[str, str]) -> None:
    name = PEER_DATABASE_URL.rsplit("/", 1)[1]
    admin = f"{POSTGRES}/postgres"
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    django = [str(python), "-m", "django"]
    subprocess.run([*django, "migrate", "--noinput"], env=env, check=True, stdout=subprocess.DEVNULL)
    # The number the bodies are addressed to, as the package's account screen would add it
    # (ours gets the same through `add_number`): each message is then linked to its account.
    account = (
        "from django_meta_whatsapp.models import WhatsAppAccount; "
        "WhatsAppAccount.objects.create(name='Bench', access_token='bench-token', "
        f"phone_number_id='{PHONE_NUMBER_ID}', waba_id='290000000000001', verify_token='bench')"
    )
    subprocess.run([*django, "shell", "-c", account], env=env, check=True, stdout=subprocess.DEVNULL)


def run_peer(args: argparse.Namespace, workdir: Path, bodies: Path) -> dict[str, float]:
    python = peer_venv()
    project = peer_project(workdir / "peer")
    env = peer_environment(project)
    reset_peer_database(python, env)
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", "peerproject.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=project,
        env=env,
    )  # fmt: skip
    try:
        wait_for_port(port)
        result = wrk(
            f"http://127.0.0.1:{port}/whatsapp/webhook/",
            seconds=args.seconds,
            connections=args.connections,
            bodies=bodies,
        )
        # Stored while wrk ran; requests still in the workers when it stopped finish below.
        stored_during_run = peer_sql(f"SELECT count(*) FROM {MESSAGES} WHERE direction = 'inbound'")
    finally:
        server.terminate()  # gunicorn's graceful stop: requests in progress finish
        server.wait(timeout=60)
    loadavg = load_average()

    acked = int(result["requests"] - result["non_2xx"])
    distinct_sent = min(int(result["requests"]), args.bodies)
    messages = peer_sql(f"SELECT count(*) FROM {MESSAGES} WHERE direction = 'inbound'")
    distinct_wamids = peer_sql(f"SELECT count(DISTINCT message_id) FROM {MESSAGES} WHERE direction = 'inbound'")
    logged = peer_sql(f"SELECT count(*) FROM {WEBHOOK_LOG}")
    # A check: the package creates a conversation with get_or_create on a column that is not
    # unique, so two first messages of one customer at once would make two, and every later
    # message of that customer would then fail (MultipleObjectsReturned, answered 400).
    extra_conversations = peer_sql(f"SELECT count(*) - count(DISTINCT phone_number) FROM {CONVERSATIONS}")
    processed_per_s = stored_during_run / result["seconds"]
    acks_per_s = acked / result["seconds"]
    common = {"load_average_1m": loadavg}
    emit("peer", "processed_per_s", round(processed_per_s), "msg/s", workers=args.workers, **common)
    emit("peer", "acks_per_s", round(acks_per_s), "req/s", connections=args.connections, **common)
    emit("peer", "ack_p50", result["p50_ms"], "ms", **common)
    emit("peer", "ack_p99", result["p99_ms"], "ms", **common)
    emit(
        "peer",
        "refused",
        int(result["non_2xx"]),
        "requests",
        socket_errors=int(result["socket_errors"]),
        logged_not_stored=logged - messages,
        extra_conversations=extra_conversations,
        **common,
    )
    emit("peer", "lost", max(0, min(acked, distinct_sent) - messages), "messages", **common)
    emit("peer", "duplicated", messages - distinct_wamids, "messages", messages=messages, **common)
    emit("peer", "database", PEER_DATABASE_URL.rsplit("/", 1)[1], "", packages=PEER_PACKAGES)
    return {"processed_per_s": processed_per_s, "acks_per_s": acks_per_s}


def run_ours(args: argparse.Namespace) -> dict[str, float]:
    """bench/ingest.py as it is, on its own scratch database; its lines are re-emitted as `ours`."""
    env = dict(os.environ, BENCH_DATABASE_URL=OURS_DATABASE_URL, BENCH_REDIS_URL=OURS_REDIS_URL)
    command = [
        sys.executable, str(HERE / "ingest.py"), "--seconds", str(args.seconds), "--connections", str(args.connections),
        "--workers", str(args.workers), "--bodies", str(args.bodies),
    ]  # fmt: skip
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"bench/ingest.py failed ({out.returncode})")
    loadavg = load_average()
    figures = {}
    for line in out.stdout.splitlines():
        if not line.startswith("{"):
            continue
        figure = json.loads(line)
        figure.pop("scenario", None)
        name, value, unit = figure.pop("figure"), figure.pop("value"), figure.pop("unit")
        emit("ours", name, value, unit, load_average_1m=loadavg, **figure)
        figures[name] = value
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the peer, uvicorn workers of ours")
    parser.add_argument("--bodies", type=int, default=150_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    try:
        bodies = workdir / "bodies.txt"
        write_bodies(bodies, args.bodies)
        peer = run_peer(args, workdir, bodies)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ours = run_ours(args)

    for figure in ("processed_per_s", "acks_per_s"):
        if figure in ours and peer[figure]:
            ratio = round(ours[figure] / peer[figure], 2)
            emit("ours/peer", f"ratio_{figure}", ratio, "x", ours=ours[figure], peer=round(peer[figure]))


if __name__ == "__main__":
    main()
