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
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    assert directives["default-src"] == ["'self'"]


def test_no_template_carries_an_inline_script_the_policy_would_refuse():
    """JSON data blocks (json_script) are not run, so the policy lets them be; anything else
    inline would be refused in the browser."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = []
    for template in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]:
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            if "src=" not in tag and "application/json" not in tag:
                inline.append(f"{template.relative_to(root)}: {tag}")
    assert not inline


def test_the_login_page_still_works_under_the_policy(client, agent):
    from tests.conftest import PASSWORD

    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200
