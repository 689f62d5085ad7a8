"""A template from the first draft to the customer's phone, in a real Chromium over real HTTP.

One admin writes it, a second admin approves it (four-eyes), the simulator (as Meta) approves
it by a signed webhook, an agent opens a conversation whose window has closed, picks it, fills
its field, sees the preview, sends it, and the customer's phone page shows it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import Message
from inbox.services import user_create_or_update
from templates_app.models import Template
from tests.conftest import PASSWORD
from tests.conversations.conftest import receive
from tests.simulator.helpers import wait_for

pytestmark = pytest.mark.e2e

CUSTOMER = "4915199887766"


def sign_in(browser, base: str, username: str):
    page = browser.new_context(timezone_id="Europe/Berlin", locale="en-US").new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_an_admin_writes_a_second_approves_meta_approves_an_agent_sends(
    live_asgi, live_simulator, browser, number, agent, admin_user
):
    simulator = live_simulator(template_review_delay=0.3, status_delay=0.1)
    reviewer = user_create_or_update(username="rita", role="admin", password=PASSWORD)
    # A customer who wrote two days ago: the window is closed.
    thread = receive(number, at=timezone.now() - timedelta(days=2), wa_id=CUSTOMER, name="Karl Kunde").conversation

    # 1. The first admin writes the template and sends it for review.
    author = sign_in(browser, live_asgi, admin_user.username)
    author.goto(f"{live_asgi}/templates/new")
    author.fill("#f-name", "parcel_update")
    author.fill("#f-language", "de")
    author.select_option("#f-category", "UTILITY")
    author.fill("#f-body", "Hallo {{1}}, Ihr Paket kommt heute.")
    author.fill("#f-body-examples", "Anna")
    expect(author.locator("#tpl-preview")).to_contain_text("Hallo Anna, Ihr Paket kommt heute.")
    author.click("button[name=action][value=submit]")
    author.wait_for_load_state("networkidle")
    template = wait_for(lambda: Template.objects.filter(name="parcel_update").first(), what="the template")

    # 2. A second admin approves it in the review queue; the author could not.
    review = sign_in(browser, live_asgi, reviewer.username)
    review.goto(f"{live_asgi}/templates/review/")
    item = review.locator("article, li, tr, section").filter(has_text="parcel_update").first
    item.get_by_role("button", name="Approve").click()
    review.wait_for_load_state("networkidle")

    # 3. Meta (the simulator) reviews it and posts its verdict as a signed webhook.
    def approved():
        template.refresh_from_db()
        return template.meta_status == "APPROVED"

    wait_for(approved, what="Meta's APPROVED webhook applied", timeout=20)

    # 4. The agent opens the closed-window conversation: the picker replaces the composer.
    desk = sign_in(browser, live_asgi, agent.username)
    desk.goto(f"{live_asgi}/inbox/c/{thread.pk}/")
    expect(desk.locator(".window-closed-note")).to_be_visible()
    desk.locator(".template-choice", has_text="parcel_update").click()
    field = desk.locator(".template-fields input").first
    expect(field).to_have_attribute("placeholder", "Anna")
    # Typed key by key, as a person does: the picker was just swapped in, and htmx may still be
    # wiring its preview trigger when the first key lands.
    field.press_sequentially("Karl", delay=60)
    expect(desk.locator(f"#preview-{thread.pk} .phone-bubble")).to_have_text("Hallo Karl, Ihr Paket kommt heute.")
    expect(desk.locator(f"#preview-{thread.pk} .price")).to_contain_text("USD")
    desk.get_by_role("button", name="Send template").click()
    expect(desk.locator(f"#thread-{thread.pk}-messages")).to_contain_text("Hallo Karl, Ihr Paket kommt heute.")

    sent = wait_for(
        lambda: Message.objects.filter(direction="out", template_name="parcel_update", wamid__isnull=False).first(),
        what="the template handed to Meta",
    )
    assert sent.template_category == "UTILITY" and sent.conversation_id == thread.pk

    # 5. The customer's phone shows it.
    phone = browser.new_context().new_page()
    phone.set_default_timeout(15_000)
    phone.goto(f"{simulator.url}/")
    phone.fill("#wa-id", f"+{CUSTOMER}")
    phone.fill("#name", "Karl Kunde")
    phone.fill("#pnid", number.phone_number_id)
    phone.click("#open-chat")
    expect(phone.locator(".msg.biz")).to_contain_text("parcel_update")
