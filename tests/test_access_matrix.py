"""Who may open what: every page and API endpoint against every kind of caller, in one table.

Callers: anonymous, an agent of one number, an agent of all numbers, an admin, finance, and a
superuser; pages with the browser session, the API with a bearer token and with the session.
`{own}` is a conversation of the one-number agent's number, `{other}` one of another number.
Pages answer 302 (to the sign-in page) for anonymous callers and 403 for a role without the
capability; a conversation outside the caller's numbers is 404 (its existence is not confirmed).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inbox.services import user_create_or_update
from tests.conftest import PASSWORD
from tests.conversations.conftest import bearer, receive, utc

CALLERS = ("anonymous", "agent1", "agent_all", "admin", "finance", "superuser")

#   path                                         anonymous agent1 agent_all admin finance superuser
PAGES = [
    ("/inbox/",                                    302, 200, 200, 200, 403, 200),
    ("/inbox/c/{own}/",                            302, 200, 200, 200, 403, 200),
    ("/inbox/c/{other}/",                          302, 404, 200, 200, 403, 200),
    ("/settings/",                                 302, 200, 200, 200, 200, 200),
    ("/templates/",                                302, 403, 403, 200, 403, 200),
    ("/templates/new",                             302, 403, 403, 200, 403, 200),
    ("/templates/review/",                         302, 403, 403, 200, 403, 200),
    ("/billing/",                                  302, 403, 403, 200, 200, 200),
    ("/billing/records/",                          302, 403, 403, 200, 200, 200),
    ("/billing/export.csv?month=2026-11",          302, 403, 403, 200, 200, 200),
    ("/campaigns/",                                302, 403, 403, 200, 403, 200),
    ("/team/",                                     302, 403, 403, 200, 403, 200),
    ("/admin/auth/user/",                          302, 302, 302, 200, 302, 200),
]  # fmt: skip

#   path                                         anonymous agent1 agent_all admin finance superuser
API = [
    ("/api/v1/me",                                 401, 200, 200, 200, 200, 200),
    ("/api/v1/conversations",                      401, 200, 200, 200, 403, 200),
    ("/api/v1/conversations/{own}",                401, 200, 200, 200, 403, 200),
    ("/api/v1/conversations/{other}",              401, 404, 200, 200, 403, 200),
    ("/api/v1/conversations/{own}/messages",       401, 200, 200, 200, 403, 200),
    ("/api/v1/search?q=Hallo",                     401, 200, 200, 200, 403, 200),
    ("/api/v1/templates",                          401, 200, 200, 200, 200, 200),
    ("/api/v1/billing/summary?month=2026-11",      401, 403, 403, 200, 200, 200),
    ("/api/v1/billing/records?month=2026-11",      401, 403, 403, 200, 200, 200),
    ("/api/v1/notifications/999999",               401, 404, 404, 404, 403, 404),
    ("/api/v1/callbacks",                          401, 200, 200, 200, 403, 200),
]  # fmt: skip


@pytest.fixture
def world(number, other_number, agent, admin_user, finance):
    own = receive(number, at=utc(2026, 11, 30, 9)).conversation.pk
    other = receive(other_number, at=utc(2026, 11, 30, 9), wa_id="4915199999999").conversation.pk
    callers = {
        "anonymous": None,
        "agent1": agent,
        "agent_all": user_create_or_update(username="allie", role="agent", password=PASSWORD, number_ids=[]),
        "admin": admin_user,
        "finance": finance,
        "superuser": get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD),
    }
    return {"own": own, "other": other}, callers


def _cells(table):
    for row in table:
        path, *expected = row
        yield from ((path, caller, status) for caller, status in zip(CALLERS, expected, strict=True))


@pytest.mark.django_db
def test_pages_with_the_session(world):
    ids, callers = world
    wrong = []
    for path, caller, expected in _cells(PAGES):
        client = Client()
        if callers[caller] is not None:
            client.force_login(callers[caller])
        got = client.get(path.format(**ids)).status_code
        if got != expected:
            wrong.append((path, caller, expected, got))
    assert wrong == [], f"{len(wrong)} of {len(PAGES) * len(CALLERS)} cells differ"


@pytest.mark.django_db
@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_with_a_token_and_with_the_session(world, auth):
    ids, callers = world
    wrong = []
    for path, caller, expected in _cells(API):
        client, headers = Client(), {}
        user = callers[caller]
        if user is not None and auth == "token":
            headers = bearer(user)
        elif user is not None:
            client.force_login(user)
        response = client.get(path.format(**ids), **headers)
        if response.status_code != expected:
            wrong.append((path, caller, expected, response.status_code))
        elif expected >= 400:
            assert response.json()["error"]["code"], (path, caller)
    assert wrong == [], f"{len(wrong)} of {len(API) * len(CALLERS)} cells differ"


@pytest.mark.django_db
def test_writes_without_a_csrf_token_are_refused(world):
    """A signed-in browser cannot be made to post from another site: every form needs the token."""
    ids, callers = world
    posts = {
        "agent1": [f"/inbox/c/{ids['own']}/send/", f"/inbox/c/{ids['own']}/assign/", f"/inbox/c/{ids['own']}/status/",
                   f"/inbox/c/{ids['own']}/labels/", f"/inbox/c/{ids['own']}/templates/send/", "/settings/"],
        "admin": ["/templates/new", "/team/"],
    }  # fmt: skip
    for caller, paths in posts.items():
        client = Client(enforce_csrf_checks=True)
        client.force_login(callers[caller])
        for path in paths:
            assert client.post(path, {"text": "x"}).status_code == 403, path
    api = Client(enforce_csrf_checks=True)
    api.force_login(callers["agent1"])
    response = api.post(f"/api/v1/conversations/{ids['own']}/messages", {"text": "x"}, content_type="application/json")
    assert response.status_code == 403


@pytest.mark.django_db
def test_someone_without_admin_access_gets_the_apps_403_not_a_second_sign_in_form(world):
    _ids, callers = world
    for caller in ("agent1", "finance"):
        client = Client()
        client.force_login(callers[caller])
        response = client.get("/admin/", follow=True)
        assert response.status_code == 403, caller
        assert b"id_password" not in response.content
    admin = Client()
    admin.force_login(callers["admin"])
    assert admin.get("/admin/").status_code == 200


def test_the_browsers_favicon_request_finds_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
