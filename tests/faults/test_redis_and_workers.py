"""Faults on the production shape, on a private PostgreSQL and a private Redis (never the
machine's shared ones): uvicorn, the webhook processor and Celery workers as processes, the
simulator as Meta.

- Redis stopped for 10 s while 200 signed webhooks arrive: every one answered 200, applied
  within seconds of Redis returning, none twice.
- An agent replies while Redis is down, through the API and through the thread's form:
  accepted (202, or the thread again; never a 500), each sent once Redis is back.
- A worker killed with SIGKILL while 100 replies go out: each reply is sent exactly once, or
  failed with an honest reason; none is left queued.
- PostgreSQL restarted while webhooks keep arriving: refused (non-200, so Meta retries) only
  while it is down; every acknowledged one is applied, and Meta's retries of the refused ones
  are applied too; none twice.

Each test prints its figures (pytest -s shows them).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from tests.ops.private_services import ROOT, PrivatePostgres, WebProcess, free_port, inbox_environment, manage
from tests.simulator.helpers import wait_for as _wait_for
from whatsapp.signature import sign

pytestmark = pytest.mark.timeout(300)

APP_SECRET = "fault-app-secret"
TOKEN = "fault-access-token"
PNID, WABA = "106540352242922", "102290129340398"


def wait_for(probe, *, timeout: float = 60, what: str = "the condition"):
    """The suite's poller with room for processes to start (a minute, not five seconds)."""
    return _wait_for(probe, timeout=timeout, what=what)


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(
            lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Stack:
    def __init__(self, tmp: Path) -> None:
        from whatsapp.simulator.server import Simulator

        self.tmp = tmp
        self.postgres = PrivatePostgres().init()
        self.redis = PrivateRedis(tmp).start()
        self.sim = Simulator(
            webhook_url="http://127.0.0.1:9/not-yet",  # pointed at the web process once it runs
            app_secret=APP_SECRET,
            access_token=TOKEN,
            status_delay=0.05,
            numbers={PNID: {"display_phone_number": "+49 30 1234567", "waba_id": WABA}},
        ).start(port=0)
        self.environ = inbox_environment(
            self.postgres.url,
            DEBUG="true",
            REDIS_URL=self.redis.url,
            WEBHOOKS_PROCESS_INLINE="false",
            CELERY_TASK_ALWAYS_EAGER="false",
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_ACCESS_TOKEN=TOKEN,
            WHATSAPP_GRAPH_URL=self.sim.url,
            DELIVERY_SWEEP_AFTER_SECONDS="1",
            MEDIA_ROOT=str(tmp / "media"),
        )
        manage(self.environ, "migrate", "--noinput")
        manage(self.environ, "add_number", PNID, "+49 30 1234567", "--waba-id", WABA)
        manage(self.environ, "add_user", "alice", "--role", "agent", "--password", "correct-horse-battery")
        self.token = manage(self.environ, "create_api_token", "alice").strip().splitlines()[-1]
        self.web = WebProcess(self.environ, tmp / "web.log")
        self.sim.poster.url = f"{self.web.url}/webhooks/whatsapp/"
        self.processes: dict[str, subprocess.Popen] = {}
        self.spawn("processor", "manage.py", "process_webhooks", "--poll", "0.2")

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115  (closed with the process's end)
        # A session of its own: a worker's pool children are killed with it (kill_group).
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.environ, stdout=log, stderr=log, start_new_session=True
        )
        self.processes[name] = process
        return process

    def worker(self, name: str = "worker", *, pool: str = "solo", concurrency: int = 1) -> subprocess.Popen:
        return self.spawn(
            name, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        )  # fmt: skip

    @staticmethod
    def kill_group(process: subprocess.Popen) -> None:
        """SIGKILL for the process and its children, as when its container is killed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def sql(self, query: str, *params):
        with psycopg.connect(self.postgres.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(query, params).fetchall()

    def print_logs(self) -> None:
        """Shown by pytest when a test failed: the tail of each process's log."""
        for log in sorted(self.tmp.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")

    def close(self) -> None:
        for process in self.processes.values():
            self.kill_group(process)
        self.web.stop()
        self.sim.stop()
        self.redis.stop()
        self.postgres.destroy()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("faults"))
    yield stack
    stack.close()


@pytest.fixture(autouse=True)
def _logs_on_failure(stack):
    yield
    stack.print_logs()


def webhook(wa_id: str, text: str) -> bytes:
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "49301234567", "phone_number_id": PNID},
            "contacts": [{"profile": {"name": f"Kunde {wa_id[-3:]}"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": f"wamid.fault{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }  # fmt: skip
    return json.dumps(envelope).encode()


def post_webhook(stack: Stack, body: bytes) -> int:
    return requests.post(
        f"{stack.web.url}/webhooks/whatsapp/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)},
        timeout=10,
    ).status_code


REDIS_OUTAGE_SECONDS = 10


def test_webhooks_arriving_while_redis_is_down_are_all_acknowledged_and_applied_once(stack):
    stack.redis.stop()
    stopped = time.monotonic()
    try:
        answers = [post_webhook(stack, webhook(f"4915200000{i:03d}", f"Ausfall {i}")) for i in range(200)]
        time.sleep(max(0.0, REDIS_OUTAGE_SECONDS - (time.monotonic() - stopped)))
    finally:
        stack.redis.start()
    back = time.monotonic()
    assert answers == [200] * 200

    def applied():
        rows = stack.sql(
            "SELECT count(*), count(DISTINCT wamid) FROM conversations_message WHERE text LIKE 'Ausfall %%'"
        )
        return rows[0] if rows[0][0] >= 200 else None

    total, distinct = wait_for(applied, what="200 messages applied")
    applied_after = time.monotonic() - back
    assert (total, distinct) == (200, 200)
    assert applied_after < 10, f"applied {applied_after:.1f} s after Redis returned"
    waiting = stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE state <> 'processed'")[0][0]
    assert waiting == 0
    print(
        f"\nredis outage {back - stopped:.1f} s: 200 webhooks, {answers.count(200)} answered 200, "
        f"{total} stored, {distinct} distinct, all applied {max(applied_after, 0):.1f} s after Redis returned"
    )


def _reply(stack: Stack, conversation_id: int, text: str) -> requests.Response:
    return requests.post(
        f"{stack.web.url}/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )


def _customer_writes(stack: Stack, wa_id: str) -> None:
    """Through the simulator, so Meta (it) knows the customer's window is open."""
    stack.sim.customer_message(phone_number_id=PNID, wa_id=wa_id, name=f"Kunde {wa_id[-3:]}", text="Hallo?")


def _thread(stack: Stack, wa_id: str) -> int:
    _customer_writes(stack, wa_id)
    rows = wait_for(
        lambda: stack.sql(
            "SELECT c.id FROM conversations_conversation c JOIN conversations_contact k ON k.id = c.contact_id "
            "WHERE k.wa_id = %s",
            wa_id,
        ),
        what="the customer's thread",
    )
    return rows[0][0]


def _body(sent: dict) -> str | None:
    """The text of one message the simulator received."""
    return (sent.get("payload") or {}).get("text", {}).get("body")


def _sweep(stack: Stack) -> None:
    manage(stack.environ, "shell", "-c", "from conversations.tasks import messages_deliver_queued as t; t()")


def _signed_in(stack: Stack) -> requests.Session:
    """Alice's browser, signed in through the sign-in form."""
    browser = requests.Session()
    page = browser.get(f"{stack.web.url}/login/", timeout=10).text
    form = {"username": "alice", "password": "correct-horse-battery", "csrfmiddlewaretoken": _csrf(page)}
    assert browser.post(f"{stack.web.url}/login/", data=form, timeout=10, allow_redirects=False).status_code == 302
    return browser


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _reply_with_the_form(stack: Stack, browser: requests.Session, conversation_id: int, text: str, *, htmx: bool):
    """What the thread page's reply form posts (with htmx, or as a plain form without JavaScript)."""
    thread = browser.get(f"{stack.web.url}/inbox/c/{conversation_id}/", timeout=20)
    assert thread.status_code == 200, thread.status_code
    headers = {"HX-Request": "true"} if htmx else {}
    return browser.post(
        f"{stack.web.url}/inbox/c/{conversation_id}/send/",
        data={"text": text, "csrfmiddlewaretoken": _csrf(thread.text)},
        headers=headers,
        timeout=20,
        allow_redirects=False,
    )


def test_a_reply_while_redis_is_down_is_accepted_and_sent_when_it_returns(stack):
    conversation_id = _thread(stack, "4915211110000")
    browser = _signed_in(stack)
    texts = ["Antwort während des Ausfalls", "Antwort aus dem Formular", "Antwort aus dem Formular mit htmx"]
    stack.redis.stop()
    try:
        answer = _reply(stack, conversation_id, texts[0])
        plain = _reply_with_the_form(stack, browser, conversation_id, texts[1], htmx=False)
        with_htmx = _reply_with_the_form(stack, browser, conversation_id, texts[2], htmx=True)
    finally:
        stack.redis.start()
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"
    assert plain.status_code == 302, plain.status_code  # back to the thread, the reply in it
    assert with_htmx.status_code == 200 and texts[2] in with_htmx.text, with_htmx.status_code
    queued = stack.sql("SELECT text, status FROM conversations_message WHERE text = ANY(%s)", texts)
    assert sorted(queued) == sorted((text, "queued") for text in texts)

    worker = stack.worker("worker-reply")
    try:
        time.sleep(1.2)  # older than DELIVERY_SWEEP_AFTER_SECONDS: the lost publishes are now overdue
        _sweep(stack)
        wait_for(
            lambda: all(any(_body(s) == text for s in stack.sim.sent) for text in texts),
            what="the replies sent after Redis returned",
        )
    finally:
        stack.kill_group(worker)
    sent = {text: sum(1 for s in stack.sim.sent if _body(s) == text) for text in texts}
    assert sent == dict.fromkeys(texts, 1)
    print(f"\nreplies while redis was down: 3 accepted (API 202, form 302, htmx form 200), 3 queued, sent {sent}")


def test_a_worker_killed_mid_delivery_strands_no_reply_and_sends_none_twice(stack):
    # One reply to each of 100 customers (Meta's pair rate limit paces replies to one customer).
    customers = [f"4915222{i:06d}" for i in range(100)]
    for wa_id in customers:
        _customer_writes(stack, wa_id)
    threads = wait_for(
        lambda: (rows := stack.sql(
            "SELECT c.id FROM conversations_conversation c JOIN conversations_contact k ON k.id = c.contact_id "
            "WHERE k.wa_id LIKE '4915222%%' ORDER BY k.wa_id"
        )) and len(rows) == 100 and rows,
        what="100 threads",
    )  # fmt: skip
    texts = [f"Antwort {i:03d}" for i in range(100)]
    for (conversation_id,), text in zip(threads, texts, strict=True):
        assert _reply(stack, conversation_id, text).status_code == 202

    # As production runs it: a prefork pool whose parent reserves (prefetches) more tasks than
    # its children are running. Killed, the reserved ones stay unacknowledged in Redis for its
    # visibility timeout (an hour); only the sweep of queued messages sends them.
    worker = stack.worker("worker-killed", pool="prefork", concurrency=2)
    wait_for(lambda: sum(1 for s in stack.sim.sent if _body(s) in texts) >= 10, what="10 sent")
    stack.kill_group(worker)
    log = (stack.tmp / "worker-killed.log").read_text()
    reserved = log.count("] received") - log.count("] succeeded")

    # The sweeps beat would run: dead claims failed (as ten minutes later), then with a new
    # worker lost publishes sent. In this order, no claim of the new worker is judged dead.
    manage(
        stack.environ, "shell", "-c",
        "from datetime import timedelta; from django.utils import timezone; "
        "from conversations.services import messages_stuck_sending_fail as f; "
        "f(now=timezone.now() + timedelta(minutes=11))",
    )  # fmt: skip
    replacement = stack.worker("worker-replacement")
    try:
        time.sleep(1.2)
        _sweep(stack)

        def settled():
            rows = stack.sql(
                "SELECT status, count(*) FROM conversations_message WHERE text LIKE 'Antwort ___' GROUP BY status"
            )
            states = dict(rows)
            return states if not {"queued", "sending"} & states.keys() else None

        states = wait_for(settled, what="every reply sent or failed", timeout=120)
    finally:
        stack.kill_group(replacement)

    sent_counts = {text: sum(1 for s in stack.sim.sent if _body(s) == text) for text in texts}
    assert max(sent_counts.values()) == 1  # nobody got a reply twice
    rows = stack.sql("SELECT text, status, error_details FROM conversations_message WHERE text LIKE 'Antwort ___'")
    assert len(rows) == 100 and sum(states.values()) == 100
    for text, status, reason in rows:
        if status == "failed":  # its worker died mid-send: maybe sent, so never resent, and said so
            assert "may or may not have reached" in reason
        else:
            assert sent_counts[text] == 1, (text, status)
    failed = sum(1 for _text, status, _reason in rows if status == "failed")
    print(
        f"\nworker SIGKILL: 100 replies, {sum(sent_counts.values())} sent (max {max(sent_counts.values())} per reply), "
        f"{failed} failed with the honest reason, 0 stranded ({reserved} were received but unfinished by the killed "
        f"worker); states {states}"
    )


POSTING_AT_ONCE = 6  # Meta delivers webhooks concurrently


def test_webhooks_arriving_while_postgresql_restarts_are_refused_or_applied_never_lost(stack):
    """Meta keeps posting while PostgreSQL restarts. What the intake acknowledged must never be
    lost (Meta will not send it again); what it could not store must be refused, so Meta retries.
    (A short outage the intake may also sit out: it waits for its pool and stores, then answers.)"""
    answers: list[tuple[bytes, int | None, float, float]] = []  # body, status, asked, answered
    streaming = threading.Event()
    streaming.set()

    def meta_posting(lane: int) -> None:
        i = 0
        while streaming.is_set():
            body = webhook(f"491523{lane}{i:06d}", f"Neustart {lane}-{i}")
            asked = time.monotonic()
            try:
                status = post_webhook(stack, body)
            except requests.RequestException:
                status = None
            answers.append((body, status, asked, time.monotonic()))
            i += 1
            time.sleep(0.05)

    posters = [threading.Thread(target=meta_posting, args=(lane,)) for lane in range(POSTING_AT_ONCE)]
    for poster in posters:
        poster.start()
    try:
        time.sleep(2)
        down = time.monotonic()
        stack.postgres.stop()
        time.sleep(3)
        stack.postgres.start()
        up = time.monotonic()
        time.sleep(4)
    finally:
        streaming.clear()
        for poster in posters:
            poster.join(timeout=60)

    while_down = [a for a in answers if down <= a[2] <= up]
    assert while_down, "no webhook arrived while PostgreSQL was down"
    acknowledged = [a for a in answers if a[1] == 200]
    refused = [a for a in answers if a[1] != 200]
    late = [(status, round(answered - up, 2)) for _b, status, _asked, answered in refused if answered > up + 1]
    assert late == [], f"refused after PostgreSQL was back (seconds after): {late}"
    assert answers[-1][1] == 200  # taking webhooks again, without a restart of any process

    retried = [post_webhook(stack, body) for body, *_ in refused]  # Meta's retries, later
    assert retried == [200] * len(refused)

    def applied():
        rows = stack.sql(
            "SELECT count(*), count(DISTINCT wamid) FROM conversations_message WHERE text LIKE 'Neustart %%'"
        )
        return rows[0] if rows[0][0] >= len(answers) else None

    total, distinct = wait_for(applied, what="every webhook applied after the restart")
    assert (total, distinct) == (len(answers), len(answers))  # all acknowledged ones, none twice
    waiting = stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE state <> 'processed'")[0][0]
    assert waiting == 0
    held = max(answered - asked for _b, _s, asked, answered in while_down)
    print(
        f"\npostgresql restart ({up - down:.1f} s down), {POSTING_AT_ONCE} posting at once: {len(answers)} webhooks, "
        f"{len(while_down)} arrived while it was down (longest answer {held:.1f} s); {len(acknowledged)} acknowledged, "
        f"{len(refused)} refused ({sorted({a[1] for a in refused}, key=str)}) and stored on Meta's retry; "
        f"{total} applied, {distinct} distinct, 0 lost"
    )
