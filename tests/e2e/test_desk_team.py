"""The team page in a real Chromium: an admin limits an agent to one number, and it holds everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.services import user_create_or_update
from tests.conftest import PASSWORD
from tests.e2e.test_desk_inbox import sign_in
from tests.e2e.test_inbox_live import customer_writes

pytestmark = pytest.mark.e2e


def test_an_agent_limited_to_one_number_sees_only_its_threads_in_list_search_and_live(
    live_asgi, browser, page, admin_user, number, other_number
):
    carla = user_create_or_update(username="carla", role="agent", password=PASSWORD)  # all numbers
    de = customer_writes(number, "Paket Dora", wa_id="4915100000201", name="Dora").conversation
    uk = customer_writes(other_number, "Parcel Ulla", wa_id="447700900201", name="Ulla").conversation

    agent_context = browser.new_context(locale="en-US", timezone_id="Europe/Berlin")
    agent_page = agent_context.new_page()
    agent_page.set_default_timeout(10_000)
    sign_in(agent_page, live_asgi, carla)
    expect(agent_page.locator(f"#conv-row-{de.pk}")).to_have_count(1)
    expect(agent_page.locator(f"#conv-row-{uk.pk}")).to_have_count(1)
    expect(agent_page.locator("body.live")).to_have_count(1)

    sign_in(page, live_asgi, admin_user)
    page.goto(f"{live_asgi}/team/")
    row = page.locator('tr[data-username="carla"]')
    expect(row).to_contain_text("All numbers")
    row.get_by_role("link", name="Change").click()
    page.get_by_label("Support UK").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-username="carla"] .numbers')).to_have_text("Support UK")

    # Live: a new message on the number she lost does not reach her page; one on hers does.
    customer_writes(number, "Noch eine Frage", wa_id="4915100000202", name="Dieter")
    later_uk = customer_writes(other_number, "Another one", wa_id="447700900202", name="Uwe").conversation
    expect(agent_page.locator(f"#conv-row-{later_uk.pk}")).to_have_count(1)
    expect(agent_page.locator(".conv-row", has_text="Dieter")).to_have_count(0)

    agent_page.goto(f"{live_asgi}/inbox/")
    expect(agent_page.locator(f"#conv-row-{uk.pk}")).to_have_count(1)
    expect(agent_page.locator(f"#conv-row-{de.pk}")).to_have_count(0)
    agent_page.goto(f"{live_asgi}/inbox/?q=Dora")
    expect(agent_page.locator(".conv-rows .empty")).to_contain_text("No conversation matches")
    assert agent_page.goto(f"{live_asgi}/inbox/c/{de.pk}/").status == 404
    agent_context.close()


def test_the_team_page_at_phone_width_has_no_sideways_scroll(live_asgi, page, admin_user, agent, number):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_asgi, admin_user)
    page.goto(f"{live_asgi}/team/")
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
