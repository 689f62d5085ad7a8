"""Personas and shared fixtures. The suite runs on the real PostgreSQL and Redis (see Makefile)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.conf import settings

from conversations.services_numbers import business_number_add
from inbox.services import user_create_or_update

PASSWORD = "correct-horse-battery"


def pytest_sessionstart(session):
    # The suite is about the real services; refuse to run silently on the embedded default.
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
        pytest.exit("Run the tests with DATABASE_URL (PostgreSQL) and REDIS_URL set: use `make test`.", returncode=2)


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop alive in the main thread
    for the rest of the session, which would break the asyncio tests collected after it."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Webhooks are applied in the request that stores them; tests of the processor turn this off.
    settings.WEBHOOKS_PROCESS_INLINE = True


@pytest.fixture(autouse=True)
def _no_pacing_left_over():
    """Pacing state stays in Redis for minutes (a slowed number, a customer's back-off): a test
    must not meet an earlier test's or an earlier run's. Its sends would wait, and with Celery
    eager each wait is a retry at once, until the recursion limit."""
    from conversations import pacing

    pacing.reset()


@pytest.fixture(autouse=True)
def _billing_defaults(request):
    """The shipped pricing rules, starting-point rate card and market map (a data migration).

    Tests on a transactional database truncate every table after themselves, the migration's
    rows too; put them back for every test that touches the database.
    """
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or (marker is not None and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker is not None:
        request.getfixturevalue("db")
    else:
        return
    from django.apps import apps

    from billing.defaults import install_defaults

    install_defaults(apps)


@pytest.fixture
def number(db):
    return business_number_add(
        phone_number_id="106540352242922",
        display_phone_number="+49 30 1234567",
        waba_id="102290129340398",
        name="Support DE",
    )


@pytest.fixture
def other_number(db):
    return business_number_add(
        phone_number_id="106540352242999",
        display_phone_number="+44 20 7946 0000",
        waba_id="102290129340398",
        name="Support UK",
    )


@pytest.fixture
def agent(number):
    return user_create_or_update(username="alice", role="agent", password=PASSWORD, number_ids=[number.phone_number_id])


@pytest.fixture
def teammate(number):
    return user_create_or_update(username="bob", role="agent", password=PASSWORD, number_ids=[number.phone_number_id])


@pytest.fixture
def outsider(other_number):
    """An agent of another number: must not see `number`'s conversations."""
    return user_create_or_update(
        username="oscar", role="agent", password=PASSWORD, number_ids=[other_number.phone_number_id]
    )


@pytest.fixture
def admin_user(db):
    return user_create_or_update(username="ada", role="admin", password=PASSWORD)


@pytest.fixture
def finance(db):
    return user_create_or_update(username="fiona", role="finance", password=PASSWORD)


@pytest.fixture
def order_update(number):
    """An approved utility template with named parameters (tests/conversations/test_send_template.py)."""
    from tests.conversations.test_send_template import ORDER_UPDATE, _template

    return _template(number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named")


@pytest.fixture
def spring_sale(number):
    """An approved marketing template with positional parameters."""
    from tests.conversations.test_send_template import SPRING_SALE, _template

    return _template(
        number, name="spring_sale", components=SPRING_SALE, category="MARKETING", parameter_format="positional"
    )


@pytest.fixture
def thread_notes(monkeypatch):
    """What the thread shows between a message's tries (the requeue note), in order."""
    from conversations.models import Message
    from conversations.services import delivery

    notes: list[str] = []
    requeue = delivery.message_requeue

    def watch(*, message_id, note=""):
        requeue(message_id=message_id, note=note)
        notes.append(Message.objects.get(pk=message_id).error_title)

    monkeypatch.setattr(delivery, "message_requeue", watch)
    return notes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_asgi(transactional_db):
    """The real config.asgi application on a free port, sharing this test's database."""
    import uvicorn

    from config.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_simulator(live_asgi, number, settings):
    """Start the simulator as Meta for the live server: it posts signed webhooks there, and the
    inbox's client (WHATSAPP_GRAPH_URL) talks to it. Call it with Simulator options."""
    from whatsapp.simulator.server import Simulator

    started = []

    def start(**options):
        sim = Simulator(
            webhook_url=f"{live_asgi}/webhooks/whatsapp/",
            app_secret=settings.WHATSAPP_APP_SECRET,
            access_token=settings.WHATSAPP_ACCESS_TOKEN,
            numbers={
                number.phone_number_id: {
                    "display_phone_number": number.display_phone_number,
                    "waba_id": number.waba_id,
                }
            },
            **{"status_delay": 0.1, **options},
        ).start(port=0)
        settings.WHATSAPP_GRAPH_URL = sim.url
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
