"""Faults on the production shape, on a private PostgreSQL and a private Redis (never the
machine's shared ones): uvicorn, the webhook processor and Celery workers as processes, the
simulator as Meta.

- Redis stopped while 200 signed webhooks arrive: every one answered 200, applied, none twice.
- An agent replies while Redis is down: accepted (202, never a 500), sent once Redis is back.
- A worker killed with SIGKILL while 100 replies go out: each reply is sent exactly once, or
  failed with an honest reason; none is left queued.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.environ, stdout=log, stderr=log)
        self.processes[name] = process
        return process

    def worker(self, name: str = "worker") -> subprocess.Popen:
        return self.spawn(
            name, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=INFO",
        )  # fmt: skip

    def sql(self, query: str, *params):
        with psycopg.connect(self.postgres.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(query, params).fetchall()

    def print_logs(self) -> None:
        """Shown by pytest when a test failed: the tail of each process's log."""
        for log in sorted(self.tmp.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
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


def test_webhooks_arriving_while_redis_is_down_are_all_acknowledged_and_applied_once(stack):
    stack.redis.stop()
    try:
        answers = [post_webhook(stack, webhook(f"4915200000{i:03d}", f"Ausfall {i}")) for i in range(200)]
    finally:
        stack.redis.start()
    assert answers == [200] * 200

    def applied():
        rows = stack.sql(
            "SELECT count(*), count(DISTINCT wamid) FROM conversations_message WHERE text LIKE 'Ausfall %%'"
        )
        return rows[0] if rows[0][0] >= 200 else None

    total, distinct = wait_for(applied, what="200 messages applied")
    assert (total, distinct) == (200, 200)
    waiting = stack.sql("SELECT count(*) FROM webhooks_webhookevent WHERE state <> 'processed'")[0][0]
    assert waiting == 0


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


def test_a_reply_while_redis_is_down_is_accepted_and_sent_when_it_returns(stack):
    conversation_id = _thread(stack, "4915211110000")
    stack.redis.stop()
    try:
        answer = _reply(stack, conversation_id, "Antwort während des Ausfalls")
    finally:
        stack.redis.start()
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"

    worker = stack.worker("worker-reply")
    try:
        time.sleep(1.2)  # older than DELIVERY_SWEEP_AFTER_SECONDS: the lost publish is now overdue
        _sweep(stack)
        wait_for(
            lambda: [s for s in stack.sim.sent if _body(s) == "Antwort während des Ausfalls"],
            what="the reply sent after Redis returned",
        )
    finally:
        worker.kill()
        worker.wait(timeout=10)
    sent = [s for s in stack.sim.sent if _body(s) == "Antwort während des Ausfalls"]
    assert len(sent) == 1


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

    worker = stack.worker("worker-killed")
    wait_for(lambda: sum(1 for s in stack.sim.sent if _body(s) in texts) >= 10, what="10 sent")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    # A new worker, and the sweeps beat would run: lost publishes are sent, dead claims failed.
    replacement = stack.worker("worker-replacement")
    try:
        time.sleep(1.2)
        _sweep(stack)
        manage(
            stack.environ, "shell", "-c",
            "from datetime import timedelta; from django.utils import timezone; "
            "from conversations.services import messages_stuck_sending_fail as f; "
            "f(now=timezone.now() + timedelta(minutes=11))",
        )  # fmt: skip

        def settled():
            rows = stack.sql(
                "SELECT status, count(*) FROM conversations_message WHERE text LIKE 'Antwort ___' GROUP BY status"
            )
            states = dict(rows)
            return states if not {"queued", "sending"} & states.keys() else None

        states = wait_for(settled, what="every reply sent or failed", timeout=120)
    finally:
        replacement.kill()
        replacement.wait(timeout=10)

    sent_counts = {text: sum(1 for s in stack.sim.sent if _body(s) == text) for text in texts}
    assert max(sent_counts.values()) == 1  # nobody got a reply twice
    rows = stack.sql("SELECT text, status, error_details FROM conversations_message WHERE text LIKE 'Antwort ___'")
    assert len(rows) == 100 and sum(states.values()) == 100
    for text, status, reason in rows:
        if status == "failed":  # its worker died mid-send: maybe sent, so never resent, and said so
            assert "may or may not have reached" in reason
        else:
            assert sent_counts[text] == 1, (text, status)
