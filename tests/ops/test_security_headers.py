"""Headers every answer carries (issue 7, item 10)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/inbox/", "/api/v1/conversations", "/api/v1/nope"])
def test_pages_and_api_carry_the_content_security_policy(client, agent, path):
    client.force_login(agent)
    policy = client.get(path)["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in policy


def test_the_login_page_still_works_under_the_policy(client, agent):
    from tests.conftest import PASSWORD

    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200
