"""Live delivery: agents with /ws/inbox/ open while customers' messages arrive as webhooks.

The production shape (uvicorn with 2 workers, the webhook processor, channels_redis) on a
scratch database; --agents agents (all numbers) signed in with a websocket each; --rate signed
text webhooks per second for --seconds, each from one of 300 customers. For every (message,
agent) pair it measures the time from the webhook POST to that agent's socket receiving what
puts the message on the agent's screen (the list row with its preview; the bubble too, for an
agent who has that thread open), and checks each pair arrives exactly once.

Prints one JSON line per figure: p50/p95/max latency (ms), delivered share, duplicates.

    python bench/live.py [--agents 25] [--rate 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import websockets

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import sql, uvicorn, wait_for_port  # noqa: E402
from webhook_intake import APP_SECRET, PYTHON, ROOT, environment, free_port, inbound_body, reset_database  # noqa: E402

PASSWORD = "bench-live-password"
TOKEN = re.compile(r"LIVE-(\d+)-")
# The fragments that show a new message: its thread's list row, or its bubble in an open thread.
SHOWS_A_MESSAGE = ('hx-swap-oob="afterbegin:#conversation-rows"', 'hx-swap-oob="beforeend:#thread-')


def create_agents(count: int) -> None:
    code = (
        "from inbox.services import user_create_or_update as u\n"
        f"for i in range({count}): u(username=f'agent{{i}}', role='agent', password='{PASSWORD}', number_ids=[])\n"
    )
    subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=environment(), check=True)


def session_cookie(base: str, username: str) -> str:
    browser = requests.Session()
    page = browser.get(f"{base}/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    browser.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def body_for(index: int) -> bytes:
    return inbound_body(index, customers=300, text=f"LIVE-{index}- wo ist mein Paket?")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children (uvicorn's workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for child in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in children(child)]


def emit(name: str, value, unit: str, **extra) -> None:
    print(json.dumps({"scenario": "live", "figure": name, "value": value, "unit": unit, **extra}), flush=True)


async def listen(url: str, cookie: str, origin: str, received: dict, ready: asyncio.Event, stop: asyncio.Event) -> None:
    async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": origin}, max_size=None) as ws:
        ready.set()
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()  # wall clock, to compare with the time the processor stored the message
            if not any(marker in frame for marker in SHOWS_A_MESSAGE):
                continue
            for index in {int(m) for m in TOKEN.findall(frame)}:
                received.setdefault(index, []).append(now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=25)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    reset_database()
    create_agents(args.agents)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn("config.asgi:application", port, args.workers)
    processor = subprocess.Popen(
        [PYTHON, "manage.py", "process_webhooks", "--poll", "0.2"], cwd=ROOT, env=environment()
    )
    posted: dict[int, float] = {}
    cpu: dict[str, float] = {}
    try:
        wait_for_port(port)
        cookies = [session_cookie(base, f"agent{i}") for i in range(args.agents)]
        if not all("sessionid=" in cookie for cookie in cookies):
            sys.exit("bench: some agents could not sign in")
        received: list[dict[int, list[float]]] = [{} for _ in range(args.agents)]

        async def run() -> None:
            stop = asyncio.Event()
            readies = [asyncio.Event() for _ in range(args.agents)]
            listeners = [
                asyncio.create_task(
                    listen(f"ws://127.0.0.1:{port}/ws/inbox/", cookie, base, received[i], readies[i], stop)
                )
                for i, cookie in enumerate(cookies)
            ]
            await asyncio.gather(*(ready.wait() for ready in readies))
            print("sending", file=sys.stderr, flush=True)
            before = cpu_seconds(server.pid), cpu_seconds(processor.pid), time.process_time()
            sender = threading.Thread(target=send, args=(args, base, posted))
            sender.start()
            while sender.is_alive():
                await asyncio.sleep(0.2)
            await asyncio.sleep(5)  # the tail of the last second
            cpu.update(
                web=cpu_seconds(server.pid) - before[0],
                processor=cpu_seconds(processor.pid) - before[1],
                # The bench's own listeners and sender share the 2 cores: if this grows, it measures itself.
                bench=time.process_time() - before[2],
            )
            stop.set()
            await asyncio.gather(*listeners)

        asyncio.run(run())
    finally:
        processor.terminate()
        server.terminate()
        for process in (processor, server):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # seen: uvicorn waiting on a socket at shutdown
                print("bench: a process did not stop in 30 s; killed", file=sys.stderr)
                os.killpg(process.pid, signal.SIGKILL) if process is server else process.kill()

    latencies, missing, duplicates = [], 0, 0
    for index, at in posted.items():
        for agent in received:
            times = agent.get(index)
            if not times:
                missing += 1
                continue
            duplicates += len(times) - 1
            latencies.append((times[0] - at) * 1000)
    pairs = len(posted) * args.agents
    emit("agents_hearing", sum(1 for agent in received if agent), "agents", of=args.agents)
    latencies.sort()
    emit("messages", len(posted), "messages", agents=args.agents, rate=args.rate)
    if latencies:
        emit("latency_p50", round(statistics.median(latencies), 1), "ms")
        emit("latency_p95", round(latencies[int(len(latencies) * 0.95) - 1], 1), "ms")
        emit("latency_max", round(latencies[-1], 1), "ms")
    # Where the time goes: POST to stored as a message (intake and processor), then to the socket.
    processed = {
        int(index): float(at)
        for index, at in (
            line.split("|")
            for line in sql(
                r"SELECT substring(text from 'LIVE-(\d+)-'), extract(epoch from created_at) "
                "FROM conversations_message WHERE text LIKE 'LIVE-%'"
            ).splitlines()
        )
    }
    to_processed = sorted((processed[i] - at) * 1000 for i, at in posted.items() if i in processed)
    to_socket = sorted(
        (times[0] - processed[i]) * 1000 for agent in received for i, times in agent.items() if i in processed
    )
    for name, values in (("post_to_processed", to_processed), ("processed_to_socket", to_socket)):
        if values:
            emit(f"{name}_p50", round(statistics.median(values), 1), "ms")
            emit(f"{name}_p95", round(values[int(len(values) * 0.95) - 1], 1), "ms")
    emit("delivered_share", round((pairs - missing) / pairs, 4) if pairs else 0, "pairs")
    emit("duplicates", duplicates, "pairs")
    emit("stored", int(sql("SELECT count(*) FROM conversations_message")), "messages")
    # CPU per message holds up better than latency on a shared machine: below about 1,000 ms per
    # second of messages in all (2 cores, PostgreSQL's share besides) the pipeline keeps up.
    for part, seconds in cpu.items():
        emit(f"cpu_{part}_per_message", round(seconds * 1000 / max(len(posted), 1), 2), "ms")
    emit("load_average", round(os.getloadavg()[0], 2), "1 min")


def send(args, base: str, posted: dict[int, float]) -> None:
    session = requests.Session()
    interval = 1 / args.rate
    start = time.monotonic()
    for index in range(int(args.rate * args.seconds)):
        target = start + index * interval
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = body_for(index)
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        posted[index] = time.time()
        session.post(
            f"{base}/webhooks/whatsapp/",
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )


if __name__ == "__main__":
    main()
