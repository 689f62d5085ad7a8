"""The agent's desk in a real Chromium: the live window, unread title, marker, saved answers, keyboard, phones."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import CannedResponse, Conversation
from tests.conftest import PASSWORD
from tests.e2e.test_inbox_live import customer_writes, fake_client  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{base}/inbox/")


def in_worker(fn):
    """Run service calls whose on-commit live push needs a thread without Playwright's loop."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    return result.get("value")


def test_the_window_closes_live_and_the_composer_becomes_the_template_picker(live_asgi, page, agent, number):
    # The customer wrote 24 hours minus a few seconds ago: the window ends while the page is open.
    conversation = customer_writes(number, "Noch da?", hours_ago=24 - 4 / 3600).conversation
    conversation.refresh_from_db()
    expires = conversation.window_expires_at()
    page.clock.install()
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    composer = page.locator(f"#thread-{conversation.pk}-composer")
    expect(composer.locator("textarea[name=text]")).to_be_visible()
    expect(page.locator(f"#thread-{conversation.pk}-header .badge.window-open")).to_contain_text("0 h 0 min left")

    while timezone.now() <= expires + timedelta(milliseconds=300):  # the server's clock must pass it too
        time.sleep(0.1)
    page.clock.fast_forward(20_000)  # the page's countdown ticks every 15 s

    expect(composer.locator(".template-picker, .window-closed-note").first).to_be_visible()
    expect(composer.locator(".reply-form")).to_have_count(0)
    expect(page.locator(f"#thread-{conversation.pk}-header .badge.window-closed")).to_have_count(1)
    expect(page.locator(f"#conv-row-{conversation.pk}")).to_have_attribute("data-window", "closed")
    expect(page.locator(f"#msg-{conversation.messages.first().pk} .msg-actions")).to_have_count(0)


def test_the_tab_title_counts_unread_conversations_and_a_marker_shows_new_messages(live_asgi, page, agent, number):
    page.set_viewport_size({"width": 1280, "height": 520})
    first = customer_writes(number, "Erste Frage", wa_id="4915100000001", name="Eva").conversation
    for i in range(12):
        customer_writes(number, f"Zeile {i}\n" * 3, wa_id="4915100000001", name="Eva")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, live_asgi, agent)
    expect(page).to_have_title("(1) Inbox")
    page.click(f"#conv-row-{first.pk} a")
    expect(page.locator(f"#thread-{first.pk}-messages")).to_contain_text("Zeile 11")
    expect(page).to_have_title("Inbox")  # read by opening it

    customer_writes(number, "Hallo?", wa_id="4915100000002", name="Otto")
    expect(page).to_have_title("(1) Inbox")
    assert page.evaluate("window.inboxAnnounced") == 1  # sound / desktop notification hook fired once

    page.locator("#thread-pane .thread-scroll").evaluate("box => { box.scrollTop = -2000; }")
    marker = page.locator("#new-messages")
    customer_writes(number, "Ist jemand da?", wa_id="4915100000001", name="Eva")
    expect(marker).to_be_visible()
    marker.click()
    expect(marker).to_be_hidden()
    expect(page.locator(f"#thread-{first.pk}-messages .msg-in").last).to_be_in_viewport()
    # Otto's thread is not open: its live fragments have no target here and are dropped quietly.
    assert not [e for e in errors if "oobErrorNoTarget" in e], errors


def test_a_reply_sent_while_scrolled_up_is_scrolled_into_view(live_asgi, page, agent, number, fake_client):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 520})
    for i in range(10):
        conversation = customer_writes(number, f"Zeile {i}\n" * 3).conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    page.locator("#thread-pane .thread-scroll").evaluate("box => { box.scrollTop = -2000; }")
    page.fill(f"#text-{conversation.pk}", "Danke, wir schauen nach.")
    page.click(f"#thread-{conversation.pk}-composer button[type=submit]")
    mine = page.locator(f"#thread-{conversation.pk}-messages .msg-out").last
    expect(mine).to_contain_text("Danke, wir schauen nach.")
    expect(mine).to_be_in_viewport()


def test_slash_opens_the_saved_answers_picker_by_keyboard(live_asgi, page, agent, number):
    CannedResponse.objects.create(shortcut="hours", text="We are open 9 to 17, Monday to Friday.")
    CannedResponse.objects.create(shortcut="hello", text="Hello! How can I help?")
    CannedResponse.objects.create(shortcut="refund", text="Refunds take 5 days.")
    conversation = customer_writes(number, "Wann habt ihr offen?").conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    box = page.locator(f"#text-{conversation.pk}")
    box.focus()
    page.keyboard.type("/h")
    options = page.locator(".canned-picker [role=option]")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("Hello! How can I help?")  # the text is previewed
    page.keyboard.type("o")
    expect(options).to_have_count(2)  # "/hours" by its shortcut, "/hello" by its text ("How")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".canned-picker")).to_have_count(0)
    expect(box).to_have_value("We are open 9 to 17, Monday to Friday.")

    box.fill("")
    box.focus()
    page.keyboard.type("/ref")
    expect(options).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".canned-picker")).to_have_count(0)
    expect(box).to_have_value("/ref")


def test_keyboard_shortcuts_move_reply_resolve_and_list_themselves(live_asgi, page, agent, number):
    older = customer_writes(number, "Ältere Frage", wa_id="4915100000011", name="Anna", hours_ago=2).conversation
    newer = customer_writes(number, "Neuere Frage", wa_id="4915100000012", name="Bernd", hours_ago=1).conversation
    sign_in(page, live_asgi, agent)
    page.keyboard.press("j")
    page.wait_for_url(f"{live_asgi}/inbox/c/{newer.pk}/")
    page.keyboard.press("j")
    page.wait_for_url(f"{live_asgi}/inbox/c/{older.pk}/")
    page.keyboard.press("k")
    page.wait_for_url(f"{live_asgi}/inbox/c/{newer.pk}/")
    expect(page.locator(f"#conv-row-{newer.pk}.current")).to_have_count(1)

    page.locator("body").press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()

    # The message's actions are one menu: one tab stop, opened and closed from the keyboard.
    bubble = page.locator(f"#thread-{newer.pk}-messages .msg-in").last
    menu = bubble.locator("details.msg-actions")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu.get_by_role("link", name="Reply")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    menu.locator("summary").click()
    menu.get_by_role("link", name="Reply").click()
    expect(page.locator(f"#thread-{newer.pk}-composer .replying")).to_contain_text("Neuere Frage")
    expect(menu).not_to_have_attribute("open", "")

    page.locator("body").press("r")
    expect(page.locator(f"#text-{newer.pk}")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    expect(page.locator(f"#thread-{newer.pk}-header .badge.status-resolved")).to_have_count(1)
    newer.refresh_from_db()
    assert newer.status == Conversation.Status.RESOLVED


def test_the_snooze_menu_closes_on_a_click_elsewhere_and_on_escape(live_asgi, page, agent, number):
    conversation = customer_writes(number, "Hallo").conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    snooze = page.locator("details.snooze")
    snooze.locator("summary").click()
    expect(snooze).to_have_attribute("open", "")
    page.locator(f"#thread-{conversation.pk}-messages").click()
    expect(snooze).not_to_have_attribute("open", "")
    snooze.locator("summary").click()
    expect(snooze).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(snooze).not_to_have_attribute("open", "")


@pytest.mark.parametrize("who", ["agent", "admin_user"])
def test_phone_width_has_no_sideways_scroll_and_a_compact_thread_header(live_asgi, page, who, request, number):
    user = request.getfixturevalue(who)
    conversation = customer_writes(number, "Hallo vom Handy").conversation
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_asgi, user)
    for path in ["/inbox/", f"/inbox/c/{conversation.pk}/", "/settings/"]:
        page.goto(f"{live_asgi}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
        top = page.locator("header.top").bounding_box()
        assert top["width"] <= 390
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    header = page.locator(f"#thread-{conversation.pk}-header").bounding_box()
    assert header["height"] < 844 * 0.25, header
    snooze = page.locator("details.snooze")
    snooze.locator("summary").click()
    menu = page.locator(".snooze-menu").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 390, menu


def test_a_failed_message_is_sent_again_from_the_thread(live_asgi, page, agent, number, fake_client):  # noqa: F811
    from conversations import services

    conversation = customer_writes(number, "Wo ist mein Paket?").conversation

    def fail_a_reply():
        sent = services.message_send_text(conversation=conversation, sender=agent, text="Es kommt morgen.")
        return services.message_send_failed(message_id=sent.pk, code=131000, reason="Meta was busy")

    failed = in_worker(fail_a_reply)
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    bubble = page.locator(f"#msg-{failed.pk}")
    expect(bubble.locator(".failure")).to_contain_text("Not delivered")
    bubble.get_by_role("button", name="Send again").click()
    copy = page.locator(f"#thread-{conversation.pk}-messages .msg-out").last
    expect(copy).not_to_have_id(f"msg-{failed.pk}")
    expect(copy).to_contain_text("Es kommt morgen.")
    expect(copy.locator(".ticks-sent")).to_have_count(1)
    assert [p["text"]["body"] for _pnid, p in fake_client.sent].count("Es kommt morgen.") >= 1


def test_the_customer_pane_beside_the_thread_folds_away_and_is_a_page_on_phones(live_asgi, page, agent, number):
    first = customer_writes(number, "Erste", wa_id="4915100000401", name="Frida").conversation
    second = customer_writes(number, "Zweite", wa_id="4915100000402", name="Gustav").conversation
    sign_in(page, live_asgi, agent)
    page.click(f"#conv-row-{first.pk} a")
    pane = page.locator("#contact-pane")
    expect(pane).to_contain_text("Frida")
    expect(pane).to_contain_text("+49 1510 0000401")
    pane.locator("textarea[name=text]").fill("Ruft lieber nachmittags an")
    pane.get_by_role("button", name="Add note").click()
    expect(pane.locator(".contact-notes")).to_contain_text("Ruft lieber nachmittags an")
    # The agent names the customer inline; the header and the list row follow without a reload.
    pane.get_by_text("Edit name").click()
    pane.get_by_label("Name shown to your team").fill("Frida Lindqvist")
    pane.get_by_role("button", name="Save name").click()
    expect(page.locator(f"#thread-{first.pk}-header h2")).to_have_text("Frida Lindqvist")
    expect(page.locator(f"#conv-row-{first.pk} .name")).to_have_text("Frida Lindqvist")
    expect(pane).to_contain_text("WhatsApp profile name: Frida")
    page.click(f"#conv-row-{second.pk} a")  # the pane follows the thread opened with htmx
    expect(pane).to_contain_text("Gustav")
    expect(pane).not_to_contain_text("Ruft lieber")

    page.locator(".contact-toggle").click()
    expect(pane).to_be_hidden()
    page.reload()
    expect(page.locator("#contact-pane")).to_be_hidden()  # remembered
    page.locator(".contact-toggle").click()
    expect(page.locator("#contact-pane")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_asgi}/inbox/c/{first.pk}/")
    expect(page.locator("#inbox #contact-pane")).to_be_hidden()
    page.locator(".contact-toggle").click()
    page.wait_for_url(f"{live_asgi}/inbox/c/{first.pk}/contact/")
    expect(page.locator("#contact-pane")).to_contain_text("Ruft lieber nachmittags an")
    # On its own page the pane saves in place; the header and row fragments have no target here
    # and are dropped before htmx looks for them.
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.locator("#contact-pane").get_by_text("Edit name").click()
    page.get_by_label("Name shown to your team").fill("Frida L.")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#contact-pane .contact-name")).to_have_text("Frida L.")
    assert page.url == f"{live_asgi}/inbox/c/{first.pk}/contact/"
    assert not [e for e in errors if "oobErrorNoTarget" in e], errors


def test_the_closes_soonest_list_keeps_its_order_live(live_asgi, page, agent, number):
    later = customer_writes(number, "Frage A", wa_id="4915100000501", name="Arne", hours_ago=10).conversation
    sooner = customer_writes(number, "Frage B", wa_id="4915100000502", name="Berta", hours_ago=20).conversation
    customer_writes(number, "Alt", wa_id="4915100000503", name="Carl", hours_ago=30)  # closed: not listed
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/?sort=closing")
    rows = page.locator("#conversation-rows > .conv-row")
    expect(rows).to_have_count(2)
    assert rows.evaluate_all("rs => rs.map(r => r.id)") == [f"conv-row-{sooner.pk}", f"conv-row-{later.pk}"]
    expect(page.locator("body.live")).to_have_count(1)
    customer_writes(number, "Noch da?", wa_id="4915100000502", name="Berta")  # Berta's window starts again
    expect(rows.first).to_have_id(f"conv-row-{later.pk}")
    expect(rows).to_have_count(2)


def test_the_skip_link_leads_to_the_reply_and_arrow_keys_move_between_conversations(live_asgi, page, agent, number):
    older = customer_writes(number, "Erste Frage", wa_id="4915100000601", name="Hanna", hours_ago=2).conversation
    newer = customer_writes(number, "Zweite Frage", wa_id="4915100000602", name="Ingo", hours_ago=1).conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{newer.pk}/")
    skip = page.get_by_role("link", name="Skip to the reply")
    skip.focus()
    expect(skip).to_be_visible()  # shown when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(f"#text-{newer.pk}")).to_be_focused()

    page.locator(f"#conv-row-{newer.pk} a").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_url(f"{live_asgi}/inbox/c/{older.pk}/")
    expect(page.locator(f"#conv-row-{older.pk} a")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.wait_for_url(f"{live_asgi}/inbox/c/{newer.pk}/")


def test_a_saved_answer_is_picked_with_the_mouse(live_asgi, page, agent, number):
    CannedResponse.objects.create(shortcut="hours", text="We are open 9 to 17, Monday to Friday.")
    CannedResponse.objects.create(shortcut="refund", text="Refunds take 5 days.")
    conversation = customer_writes(number, "Wann habt ihr offen?").conversation
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/inbox/c/{conversation.pk}/")
    box = page.locator(f"#text-{conversation.pk}")
    box.click()
    page.keyboard.type("/")
    page.locator(".canned-picker [role=option]", has_text="Refunds take 5 days.").click()
    expect(page.locator(".canned-picker")).to_have_count(0)
    expect(box).to_have_value("Refunds take 5 days.")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_list_filters_show_each_choice_whole_in_german_beside_the_number_filter(
    live_asgi, browser, admin_user, number, other_number, width
):
    customer_writes(number, "Hallo")
    context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": width, "height": 844})
    page = context.new_page()
    sign_in(page, live_asgi, admin_user)
    selects = page.locator(".filter-row select")
    expect(page.locator(".filter-row select[name=number]")).to_have_count(1)  # an admin works two numbers
    cut = page.evaluate(
        """() => {
            const cut = [];
            for (const select of document.querySelectorAll(".filter-row select")) {
                const style = getComputedStyle(select);
                const probe = document.createElement("span");
                probe.style.font = style.font;
                probe.style.whiteSpace = "pre";
                probe.style.position = "absolute";
                document.body.append(probe);
                const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 18;
                for (const option of select.options) {
                    probe.textContent = option.text;
                    if (probe.getBoundingClientRect().width > room) cut.push(option.text);
                }
                probe.remove();
            }
            return cut;
        }"""
    )
    assert selects.count() >= 3
    assert not cut, cut
    context.close()


def test_ticking_desktop_notifications_asks_the_browsers_permission(live_asgi, page, agent):
    page.add_init_script(
        """window.permissionAsked = 0;
        if (window.Notification) {
            Notification.requestPermission = () => { window.permissionAsked += 1; return Promise.resolve("denied"); };
        }"""
    )
    sign_in(page, live_asgi, agent)
    page.goto(f"{live_asgi}/settings/")
    page.locator("#notify-desktop").check()
    page.wait_for_function("window.permissionAsked === 1")
    expect(page.locator("#notify-permission")).not_to_be_empty()  # says the browser refused
