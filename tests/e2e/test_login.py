from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("username", "password", "landing", "heading"),
    [
        ("agent", "agent-demo-2026", "/inbox/", "Inbox"),
        ("admin", "admin-demo-2026", "/templates/", "Notification templates"),
        ("finance", "finance-demo-2026", "/billing/", "Costs"),
    ],
)
def test_demo_users_sign_in_and_land_on_their_page(live_asgi, page, username, password, landing, heading):
    call_command("seed_demo", stdout=StringIO())
    page.goto(f"{live_asgi}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}{landing}")
    assert page.locator("h1").inner_text().startswith(heading)
    # The browser's zone reaches the server as a cookie (used unless the user chose one).
    assert {"name": "tz", "value": "Europe/Berlin"}.items() <= next(
        c for c in page.context.cookies() if c["name"] == "tz"
    ).items()


def test_an_anonymous_visit_to_the_inbox_returns_there_after_sign_in(live_asgi, page):
    call_command("seed_demo", stdout=StringIO())
    page.goto(f"{live_asgi}/inbox/")
    assert "/login/?next=/inbox/" in page.url
    page.fill("#id_username", "agent")
    page.fill("#id_password", "agent-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}/inbox/")


def test_a_wrong_password_is_refused_in_the_browser(live_asgi, page):
    call_command("seed_demo", stdout=StringIO())
    page.goto(f"{live_asgi}/login/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    # The form posts back to /login/: wait for the re-rendered page with the error.
    page.locator(".errorlist").wait_for(state="visible")
    assert "/login/" in page.url
    assert page.input_value("#id_username") == "agent"
