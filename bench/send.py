"""Sending at scale: notifications through the paced delivery path into the simulator.

For each rate (80/s, Meta's default, and 1,000/s, the upgraded ceiling) it queues --count
notifications through the real sending path (`notifications.services.notification_send`:
template checks, billing record, queued message), starts --workers `celery worker` processes
(solo pool) with NUMBER_RATE_PER_SECOND set to the rate, and lets them deliver into the
simulator, which enforces Meta's limit at the same rate (130429 above it). Figures, one JSON
line per rate, all counted on the simulator's clock:

- achieved: sends per second from the first send to the last;
- busiest_second: the most sends in any one-second window (must not exceed the rate);
- refused_130429: sends Meta (the simulator) refused for throughput (0 expected);
- cpu_per_1000: CPU seconds (user + system) the workers spent per 1,000 sends.

Then, for each of --campaign-rates (80/s by default), a campaign of --count recipients is
started and the workers do everything: the sender task claims recipients in batches (a message
and a billing record each) and hands each batch to one paced delivery task. Its CPU figure is
the whole campaign's.

    python bench/send.py [--count 20000] [--rates 80,1000] [--campaign-rates 80] [--workers 4]

Uses the scratch database BENCH_SEND_DATABASE_URL (default inbox_bench_send) and BENCH_REDIS_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_SEND_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inbox_bench_send")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PHONE_NUMBER_ID = "290000000000077"
WABA_ID = "290000000000001"
TEMPLATE = [
    {
        "type": "BODY",
        "text": "Hallo {{1}}, Ihr Paket {{2}} ist unterwegs.",
        "example": {"body_text": [["Anna", "1042"]]},
    }
]
WORKER = """
import sys, django
django.setup()
from config.celery import app
queue, name = sys.argv[1], sys.argv[2]
app.conf.task_default_queue = queue
app.worker_main(["worker", "--pool=solo", "-Q", queue, "-n", name, "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel=WARNING"])
"""


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
        WHATSAPP_APP_SECRET="bench-secret",
        WHATSAPP_VERIFY_TOKEN="bench",
        WHATSAPP_ACCESS_TOKEN="bench-token",
        **extra,
    )
    return env


def reset_database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    # The static manifest first: with DEBUG off every command's system checks require it.
    for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=environment(), check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def busiest_second(times: list[float]) -> int:
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def setup():
    from conversations.services_numbers import business_number_add
    from inbox.services import user_create_or_update
    from templates_app.models import Template, TemplateVersion

    number = business_number_add(
        phone_number_id=PHONE_NUMBER_ID, display_phone_number="+49 30 9999977", waba_id=WABA_ID, name="Bench"
    )
    user = user_create_or_update(username="shop", role="agent", password=uuid.uuid4().hex, number_ids=[])
    template = Template.objects.create(
        waba_id=WABA_ID, name="parcel", language="de", category="UTILITY", parameter_format="positional",
        meta_status="APPROVED", meta_template_id="977",
    )  # fmt: skip
    version = TemplateVersion.objects.create(
        template=template, number=1, category="UTILITY", components=TEMPLATE, state=TemplateVersion.State.APPROVED
    )
    template.sending_version = version
    template.save(update_fields=["sending_version"])
    return number, user


def queue_notifications(user, *, count: int, offset: int) -> float:
    from notifications.services import notification_send

    started = time.monotonic()
    for index in range(count):
        notification_send(
            user=user,
            to=f"+49152{offset + index:08d}",
            template="parcel",
            language="de",
            parameters={"body": [f"K{index}", str(offset + index)]},
            phone_number_id=PHONE_NUMBER_ID,
        )
    return count / (time.monotonic() - started)


def scenario(sim, user, number, *, rate: int, count: int, workers: int, offset: int, queue: str) -> dict:
    """Notifications queued first, one by one through the API's service; then delivered."""
    from conversations import pacing

    pacing.reset(PHONE_NUMBER_ID)
    sim.set_rate_limit(rate)
    queued_per_second = queue_notifications(user, count=count, offset=offset)
    figures = deliver(sim, rate=rate, count=count, workers=workers, queue=queue)
    return {
        "scenario": f"send at {rate}/s",
        "notifications": count,
        "queued_per_second": round(queued_per_second, 1),
    } | figures


def campaign_scenario(sim, user, number, *, rate: int, count: int, workers: int, offset: int, queue: str) -> dict:
    """A campaign of `count` recipients started, then sent by the workers alone: its sender task
    claims recipients in batches (message and billing record each) and hands each batch to one
    paced delivery task, so the CPU figure covers the whole campaign, not only the delivery."""
    from campaigns import services as campaigns
    from conversations import pacing

    pacing.reset(PHONE_NUMBER_ID)
    sim.set_rate_limit(rate)
    csv = "phone,name,body_1,body_2\n" + "".join(
        f"+49152{offset + index:08d},K{index},K{index},{offset + index}\n" for index in range(count)
    )
    campaign = campaigns.campaign_create(
        name=f"Bench {rate}/s",
        number=number,
        template="parcel",
        language="de",
        created_by=user,
        rows=campaigns.rows_from_csv(csv),
    )
    campaigns.campaign_transition(campaign=campaign, action="start")  # publishes the sender task
    figures = deliver(sim, rate=rate, count=count, workers=workers, queue=queue)
    return {"scenario": f"campaign at {rate}/s", "recipients": count} | figures


def deliver(sim, *, rate: int, count: int, workers: int, queue: str) -> dict:
    """Start the workers, wait until the simulator saw `count` more sends, stop them: the figures."""
    from conversations.models import Message

    refused_before = sim.refused.get(130429, 0)
    sent_before = len(sim.sent)
    env = environment(WHATSAPP_GRAPH_URL=sim.url, NUMBER_RATE_PER_SECOND=str(rate))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, queue, f"send{rate}-{n}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for n in range(workers)
    ]
    time.sleep(3)  # let the workers import Django before measuring their CPU
    cpu_start = sum(cpu_seconds(p.pid) for p in procs)
    deadline = time.monotonic() + count / min(rate, 50) + 600
    while len(sim.sent) - sent_before < count and time.monotonic() < deadline:
        time.sleep(0.5)
    cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_start
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=60)
    times = sorted(entry["at"] for entry in sim.sent[sent_before:])
    sends = len(times)
    return {
        "sent": sends,
        "achieved": round((sends - 1) / (times[-1] - times[0]), 1) if sends > 1 else 0,
        "busiest_second": busiest_second(times),
        "refused_130429": sim.refused.get(130429, 0) - refused_before,
        "cpu_per_1000": round(1000 * cpu / max(sends, 1), 2),
        "workers": workers,
        "still_queued": Message.objects.filter(status=Message.Status.QUEUED).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rates", default="80,1000")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--campaign-rates", default="80", help="campaigns of --count recipients; '' for none")
    args = parser.parse_args()

    reset_database()
    os.environ.update(environment())
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    import redis

    from whatsapp.simulator.server import Simulator

    queue = f"bench-send-{uuid.uuid4().hex[:6]}"
    from config.celery import app

    app.conf.task_default_queue = queue
    sim = Simulator(
        webhook_url="http://127.0.0.1:9/unused",  # no statuses during the run: only sends are measured
        app_secret="bench-secret",
        access_token="bench-token",
        status_delay=3600,
        numbers={PHONE_NUMBER_ID: {"display_phone_number": "+49 30 9999977", "waba_id": WABA_ID}},
    ).start(port=0)
    try:
        number, user = setup()
        runs = [(scenario, int(r)) for r in args.rates.split(",") if r]
        runs += [(campaign_scenario, int(r)) for r in args.campaign_rates.split(",") if r]
        for offset, (run, rate) in enumerate(runs):
            figures = run(
                sim, user, number, rate=rate, count=args.count, workers=args.workers, offset=offset * 10**7, queue=queue
            )
            print(json.dumps(figures), flush=True)
    finally:
        sim.stop()
        redis.Redis.from_url(REDIS_URL).delete(queue)


if __name__ == "__main__":
    main()
