"""PostgreSQL restarts under a running web process (issue 7, item 3), on a private server.

Seen before: error pages leaked pooled connections (the pool ran dry, then every request waited
and failed), each process handed out its dead pooled connections once after a restart (a 500
each), and the API answered HTML 500 while the database was down.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.ops.private_services import PrivatePostgres, WebProcess, inbox_environment, manage

PASSWORD = "correct-horse-battery"
POOL_SIZE = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    postgres = PrivatePostgres().init()
    web = None
    try:
        environ = inbox_environment(
            postgres.url,
            DEBUG="true",
            DATABASE_POOL_MAX_SIZE=str(POOL_SIZE),
            DATABASE_POOL_TIMEOUT="2",
            CELERY_TASK_ALWAYS_EAGER="true",
        )
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
    """One round of what agents and systems do: a forbidden page, a page, the API."""
    api = {"Authorization": f"Bearer {token}"}
    return [
        ("403 page", browser.get(f"{web.url}/billing/", timeout=15).status_code),
        ("inbox page", browser.get(f"{web.url}/inbox/", timeout=15).status_code),
        ("api list", requests.get(f"{web.url}/api/v1/conversations", headers=api, timeout=15).status_code),
    ]


EXPECTED = [("403 page", 403), ("inbox page", 200), ("api list", 200)]


def test_pages_and_api_survive_a_postgresql_restart(stack):
    postgres, web, token = stack
    browser = signed_in(web)
    # More error pages than the pool holds: a leak would run it dry within this loop.
    for _ in range(POOL_SIZE * 3):
        assert answers(web, browser, token) == EXPECTED, web.log_path.read_text()[-3000:]

    postgres.stop()
    down = requests.get(f"{web.url}/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=20)
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "unavailable"

    postgres.start()
    # Every pooled connection died with the server: none may be handed out (each was a 500).
    for _ in range(POOL_SIZE * 3):
        assert answers(web, browser, token) == EXPECTED, web.log_path.read_text()[-3000:]
