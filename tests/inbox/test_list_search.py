"""The list's search and keyset pages: every match once, in list order, in a fixed number of queries.

A search looks for one page of matches only, in two ways chosen by how common the words are
(conversations.selectors.search): probing the list's first threads one by one, or collecting
the threads of every matching message from the text index. Both must give the same pages.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import selectors, services
from conversations.models import Conversation
from inbox import queries
from tests.conversations.conftest import inbound, profile
from tests.inbox.test_inbox_pages import QUERIES_ON_THE_LIST_PAGE, row_ids

_numbers = itertools.count(4915200000000)


def thread(number, *texts: str, hours_ago: float, name: str = "Jana Schmidt", wa_id: str | None = None):
    """A customer's messages (oldest first, a minute apart) through the real receive service."""
    wa_id = wa_id or str(next(_numbers))
    start = timezone.now() - timedelta(hours=hours_ago)
    for i, text in enumerate(texts):
        message = services.inbound_message_receive(
            number=number,
            message=inbound(at=start + timedelta(minutes=i), wa_id=wa_id, text=text),
            profile=profile(wa_id=wa_id, name=name),
        )
    return message.conversation


def all_pages(user, q: str, *, limit: int) -> list[int]:
    """Every row of the search, following the cursor page by page."""
    ids, cursor = [], None
    for _ in range(50):
        page = queries.conversation_list(user, queries.ListFilters(q=q), cursor=cursor, limit=limit)
        ids += [c.pk for c in page.conversations]
        cursor = page.next_cursor
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ended")


@pytest.fixture
def mixed(number):
    """Eight threads, newest first; "paket" in five of them, in an older message of two."""
    return [
        thread(number, "Wo ist mein Paket?", hours_ago=1),
        thread(number, "Hallo", hours_ago=2),
        thread(number, "Paket kaputt", "Danke", hours_ago=3),
        thread(number, "Rechnung bitte", hours_ago=4),
        thread(number, "paketshop?", hours_ago=5),
        thread(number, "Guten Tag", hours_ago=6),
        thread(number, "Das Paket", "ist da", "danke!", hours_ago=7),
        thread(number, "Paket", hours_ago=8),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("probe_rows", [1, 3, 100])
@pytest.mark.parametrize("limit", [1, 2, 30])
def test_a_search_pages_through_every_match_in_list_order(monkeypatch, agent, mixed, probe_rows, limit):
    # 1 and 3 rows probed: the probe finds less than a page and the text index answers;
    # 100: the probe alone answers. The pages must not differ.
    monkeypatch.setattr(selectors, "SEARCH_PROBE_ROWS", probe_rows)
    expected = [c.pk for i, c in enumerate(mixed) if i in (0, 2, 4, 6, 7)]
    assert all_pages(agent, "paket", limit=limit) == expected
    assert all_pages(agent, "nirgends", limit=limit) == []


@pytest.mark.django_db
@pytest.mark.parametrize("probe_rows", [1, 100])
def test_a_search_unites_names_numbers_and_messages_each_thread_once(monkeypatch, agent, number, probe_rows):
    monkeypatch.setattr(selectors, "SEARCH_PROBE_ROWS", probe_rows)
    both = thread(number, "Frage an Frau Weber", hours_ago=1, name="Greta Weber")
    by_name = thread(number, "Hallo", hours_ago=2, name="Ida Weber")
    by_text = thread(number, "weber?", hours_ago=3, name="Anna Koch")
    thread(number, "Hallo", hours_ago=4, name="Paul Braun")
    by_number = thread(number, "Hi", hours_ago=5, name="Tim", wa_id="447700900123")
    assert all_pages(agent, "Weber", limit=1) == [both.pk, by_name.pk, by_text.pk]
    assert all_pages(agent, "Weber", limit=30) == [both.pk, by_name.pk, by_text.pk]
    assert all_pages(agent, "+44 7700", limit=1) == [by_number.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["+49 151 234", "(151) 234-56", "151/234", "49.151.234", "4915123"])
def test_a_number_written_as_people_write_it_finds_the_customer(agent, number, q):
    customer = thread(number, "Hi", hours_ago=1, name="Tim", wa_id="4915123456789")
    thread(number, "Hi", hours_ago=2, name="Ute", wa_id="447700900123")
    assert all_pages(agent, q, limit=30) == [customer.pk]


@pytest.mark.django_db
def test_an_order_number_finds_its_messages_not_customers_whose_number_holds_its_digits(agent, number):
    order = thread(number, "Wo bleibt B4700?", hours_ago=2, name="Ute", wa_id="447700900123")
    thread(number, "Hallo", hours_ago=1, name="Tim", wa_id="4915147001234")  # 4700 in the number
    assert all_pages(agent, "B4700", limit=30) == [order.pk]
    assert all_pages(agent, "B4700", limit=1) == [order.pk]


@pytest.mark.django_db
def test_a_search_shows_only_the_agents_numbers(agent, number, other_number):
    mine = thread(number, "Paket", hours_ago=2)
    thread(other_number, "Paket", hours_ago=1)
    assert all_pages(agent, "paket", limit=1) == [mine.pk]


@pytest.mark.django_db
def test_later_pages_keep_threads_with_the_same_time(agent, number):
    # The keyset's index bound is "at or before" the cursor's time: ties are then ordered by id.
    conversations = [thread(number, "Hallo", hours_ago=1) for _ in range(5)]
    at = timezone.now() - timedelta(hours=3)
    Conversation.objects.filter(pk__in=[c.pk for c in conversations[1:4]]).update(last_message_at=at)
    ids, cursor = [], None
    while True:
        page = queries.conversation_list(agent, queries.ListFilters(), cursor=cursor, limit=2)
        ids += [c.pk for c in page.conversations]
        if not (cursor := page.next_cursor):
            break
    same_time = sorted((c.pk for c in conversations[1:4]), reverse=True)
    assert ids == [conversations[4].pk, conversations[0].pk, *same_time]


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["paket", "Schmidt", "+49 152", "nirgends"])
@pytest.mark.parametrize("rows", [5, 30])
def test_the_search_page_runs_as_many_queries_as_the_list(client, agent, number, q, rows, django_assert_num_queries):
    for i in range(rows):
        conversation = thread(number, "Wo ist mein Paket?", hours_ago=i + 1)
        services.conversation_label_add(conversation=conversation, name=f"label {i % 3}", by=agent)
    client.force_login(agent)
    client.get(f"/inbox/?q={q}")  # warm the session and permission caches the same way for both sizes
    found = rows if q != "nirgends" else 0
    # Without rows there are no rows to read (inbox.list_rows): one query fewer. The
    # search plans without parallel workers (selectors.searching): its SET LOCAL, and here, inside
    # the test's transaction, the savepoint around it and its release.
    with django_assert_num_queries(QUERIES_ON_THE_LIST_PAGE + 3 - (found == 0)):
        response = client.get(f"/inbox/?q={q}")
    assert len(row_ids(response.content.decode())) == min(found, queries.PAGE_SIZE)


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs: the SET LOCAL ends with the search
def test_a_search_is_planned_without_parallel_workers(agent, number):
    """PostgreSQL over-estimates a prefix query and starts workers that cost more than the scan."""
    from django.db import connection

    from conversations.selectors import searching

    with searching(), connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] != "0"  # only for the search
