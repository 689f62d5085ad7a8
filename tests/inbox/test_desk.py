"""The agent's desk (issue 12): window filters and order, the closed-window thread, locale dates."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import translation

from conversations.models import CannedResponse, Contact
from conversations.services import inbound_message_receive
from inbox import queries
from tests.conversations.conftest import inbound
from tests.inbox.test_inbox_pages import chat, row_ids


@pytest.mark.django_db
def test_closing_within_the_hour_lists_only_windows_that_end_in_the_next_hour(client, agent, number):
    closing = chat(number, hours_ago=23.5)
    chat(number, hours_ago=2)  # open for 22 more hours
    chat(number, hours_ago=30)  # closed
    client.force_login(agent)
    html = client.get("/inbox/?window=closing").content.decode()
    assert row_ids(html) == [closing.pk]
    assert '<option value="closing" selected>' in html


@pytest.mark.django_db
def test_closes_soonest_orders_open_windows_by_expiry_and_pages_by_keyset(agent, number):
    hours = [5, 23.9, 1, 12, 20, 30]  # the 30-hour one is closed and not listed
    by_hours = {h: chat(number, hours_ago=h) for h in hours}
    expected = [by_hours[h].pk for h in (23.9, 20, 12, 5, 1)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = queries.conversation_list(agent, queries.ListFilters(sort="closing"), cursor=cursor, limit=2)
        seen += [row.pk for row in page.conversations]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == expected


@pytest.mark.django_db
def test_a_closed_window_thread_offers_no_reply_link(client, agent, number):
    conversation = chat(number, hours_ago=30)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "?reply_to=" not in html
    open_one = chat(number, hours_ago=1)
    html = client.get(f"/inbox/c/{open_one.pk}/").content.decode()
    assert "?reply_to=" in html
    assert 'data-expires="' in html  # the countdown and the composer swap read it


@pytest.mark.django_db
def test_dates_follow_the_locale_format(client, agent, number):
    conversation = chat(number, hours_ago=1)
    client.force_login(agent)
    with translation.override("de"):
        client.cookies["django_language"] = "de"
        html = client.get(f"/inbox/c/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert not re.search(r"\d+ (Jan|Feb|Mär|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez) \d{4}", html)
    assert re.search(r"\d+\. \w+ \d{4} \d\d:\d\d", html)


@pytest.mark.django_db
def test_the_page_carries_the_saved_answers_for_the_slash_picker_and_a_favicon(client, agent, number):
    CannedResponse.objects.create(shortcut="hours", text="We are open 9-17.")
    client.force_login(agent)
    html = client.get("/inbox/").content.decode()
    data = re.search(r'<script id="canned-answers" type="application/json">(.*?)</script>', html).group(1)
    assert json.loads(data) == [{"shortcut": "hours", "text": "We are open 9-17."}]
    assert 'rel="icon"' in html


@pytest.mark.django_db
def test_a_stop_button_is_recorded_as_a_button_not_a_keyword(number):
    from django.utils import timezone

    raw = {"type": "button", "button": {"payload": "STOP_PROMO", "text": "Stop promotions"}}
    message = inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now(), type="button", text="Stop promotions", raw=raw),
        profile=None,
    )
    contact = message.conversation.contact
    assert contact.marketing_opt_out_source == Contact.OptOutSource.BUTTON
    assert contact.get_marketing_opt_out_source_display() == "customer tapped a stop button"
