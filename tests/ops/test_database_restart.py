"""PostgreSQL restarts under a running web process (issue 7, item 3), on a private server.

Seen before: error pages leaked pooled connections (the pool ran dry, then every request waited
and failed), each process handed out its dead pooled connections once after a restart (a 500
each), and the API answered HTML 500 while the database was down.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from tests.ops.private_services import PrivatePostgres, WebProcess, inbox_environment, manage
from whatsapp.signature import sign

PASSWORD = "correct-horse-battery"
POOL_SIZE = 3
APP_SECRET = "restart-test-app-secret"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    postgres = PrivatePostgres().init()
    web = None
    try:
        # Production settings (error pages render as in production), on plain http.
        environ = inbox_environment(
            postgres.url,
            DEBUG="false",
            SECRET_KEY="restart-test-" + "k" * 50,
            ALLOWED_HOSTS="127.0.0.1",
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN="restart-test",
            WHATSAPP_ACCESS_TOKEN="restart-test",
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
            DATABASE_POOL_MAX_SIZE=str(POOL_SIZE),
            # psycopg_pool waits 1 s, then 2 s, ... between dead connections it checks: room for two.
            DATABASE_POOL_TIMEOUT="5",
            CELERY_TASK_ALWAYS_EAGER="true",
        )
        manage(environ, "collectstatic", "--noinput")
        manage(environ, "migrate", "--noinput")
        manage(environ, "add_number", "106540352242922", "+49 30 1234567", "--waba-id", "102290129340398")
        manage(environ, "add_user", "alice", "--role", "agent", "--password", PASSWORD)
        token = manage(environ, "create_api_token", "alice").strip().splitlines()[-1]
        web = WebProcess(environ, tmp_path_factory.mktemp("web") / "web.log")
        yield postgres, web, token
    finally:
        if web is not None:
            web.stop()
        postgres.destroy()


def signed_in(web: WebProcess) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{web.url}/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{web.url}/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{web.url}/login/"},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return browser


def answers(web: WebProcess, browser: requests.Session, token: str) -> list[tuple[str, int]]:
    """One round of what agents and systems do: error pages, a page, the API."""
    api = {"Authorization": f"Bearer {token}"}
    return [
        # No URL matches: the page renders in Django's exception-handling thread.
        ("404 page", browser.get(f"{web.url}/no-such-page/", timeout=15).status_code),
        ("403 page", browser.get(f"{web.url}/billing/", timeout=15).status_code),
        ("inbox page", browser.get(f"{web.url}/inbox/", timeout=15).status_code),
        ("api list", requests.get(f"{web.url}/api/v1/conversations", headers=api, timeout=15).status_code),
    ]


EXPECTED = [("404 page", 404), ("403 page", 403), ("inbox page", 200), ("api list", 200)]


def post_webhook(web: WebProcess) -> int:
    """A customer's message, signed as Meta signs it."""
    message = {"from": "4915112345678", "id": "wamid.restart.1", "timestamp": "1790417200", "type": "text"}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "49301234567", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Jana"}, "wa_id": "4915112345678"}],
        "messages": [{**message, "text": {"body": "Hallo"}}],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(envelope).encode()
    headers = {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}
    return requests.post(f"{web.url}/webhooks/whatsapp/", data=body, headers=headers, timeout=20).status_code


def api_status(web: WebProcess, token: str) -> tuple[int, str]:
    response = requests.get(f"{web.url}/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=20)
    code = response.json().get("error", {}).get("code", "") if response.status_code != 200 else ""
    return response.status_code, code


def test_a_postgresql_restart_costs_no_request(stack):
    postgres, web, token = stack
    browser = signed_in(web)
    # More error pages than the pool holds: a leak would run it dry within this loop.
    for _ in range(POOL_SIZE * 3):
        assert answers(web, browser, token) == EXPECTED, web.log_path.read_text()[-3000:]

    postgres.stop()
    postgres.start()
    # Every pooled connection died with the server, unnoticed: none may be handed out (each was
    # a 500), and no error page may keep one.
    for _ in range(POOL_SIZE * 3):
        assert answers(web, browser, token) == EXPECTED, web.log_path.read_text()[-3000:]
    asked = 2 * POOL_SIZE * 3 * len(EXPECTED)
    print(f"\nquick postgresql restart: {asked} page and API requests as expected, 0 5xx")


def test_while_postgresql_is_down_everything_says_503_and_webhooks_are_not_acknowledged(stack):
    postgres, web, token = stack
    browser = signed_in(web)

    def page() -> int:
        return browser.get(f"{web.url}/inbox/", timeout=20).status_code

    postgres.stop()
    try:
        assert api_status(web, token) == (503, "unavailable")
        assert page() == 503
        assert post_webhook(web) != 200  # not stored: Meta must retry it
    finally:
        postgres.start()
    # psycopg_pool reconnects with a backoff that grows with the outage: until it has, pages and
    # the API keep answering 503 (never a 500), then everything works without a process restart.
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen.append((api_status(web, token)[0], page()))
        if seen[-1] == (200, 200):
            break
        time.sleep(0.5)
    assert seen[-1] == (200, 200) and {code for pair in seen for code in pair} <= {200, 503}, seen
    for _ in range(POOL_SIZE * 3):
        assert answers(web, browser, token) == EXPECTED, web.log_path.read_text()[-3000:]
    assert post_webhook(web) == 200  # Meta's retry
    codes = [code for pair in seen for code in pair]
    print(
        f"\npostgresql down: API 503 unavailable, page 503, webhook refused; reconnecting: {codes.count(503)} x 503 "
        f"and {codes.count(200)} x 200 of {len(codes)} (0 x 500); then {POOL_SIZE * 3 * len(EXPECTED)} requests "
        "as expected and Meta's retry stored"
    )
    listed = requests.get(f"{web.url}/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert [item["contact"]["wa_id"] for item in listed.json()["items"]] == ["4915112345678"]
