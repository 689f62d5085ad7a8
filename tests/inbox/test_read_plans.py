"""The inbox's list and thread pages let PostgreSQL reuse their statements' plans
(inbox.middleware.ReadsPlannedOnceMiddleware); everything else, searches included, is planned
for its values on every run (config/env.py)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.inbox.test_inbox_pages import chat

SET_AUTO = "SET LOCAL plan_cache_mode = auto"


def plan_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_page_reads_with_reused_plans_in_its_own_transaction_and_the_mode_ends_with_it(client, agent, number):
    conversation = chat(number, text="Hallo")
    client.force_login(agent)
    client.get(f"/inbox/c/{conversation.pk}/")  # reads it: the read receipt goes out after the commit
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/inbox/c/{conversation.pk}/").status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    # The session and the user are read inside it too: they are the first reads of the request.
    assert statements[:2] == ["BEGIN", SET_AUTO] and statements[-1] == "COMMIT"
    assert "django_session" in statements[2]
    assert plan_mode() == "force_custom_plan"  # SET LOCAL: the pooled connection goes back as it came


@pytest.mark.django_db(transaction=True)
def test_a_search_inside_the_list_page_is_planned_for_its_words(client, agent, number):
    from conversations.selectors import searching

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(SET_AUTO)
        with searching():
            assert plan_mode() == "force_custom_plan"
    chat(number, text="Rechnung 4711")
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        assert "Rechnung" in client.get("/inbox/", {"q": "rechnung"}).content.decode()
    statements = [query["sql"] for query in captured.captured_queries]
    assert SET_AUTO in statements and any("force_custom_plan" in sql for sql in statements)


@pytest.mark.django_db(transaction=True)
def test_pages_not_marked_and_posts_are_planned_per_run(client, agent, admin_user, number):
    client.force_login(admin_user)
    for path in ("/settings/", "/billing/", "/healthz"):
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        assert SET_AUTO not in [query["sql"] for query in captured.captured_queries], path


@pytest.mark.django_db(transaction=True)
def test_a_post_is_planned_per_run(client, agent, number):
    conversation = chat(number, text="Hallo")
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/inbox/c/{conversation.pk}/labels/", {"name": "vip"})
    assert response.status_code == 302
    assert SET_AUTO not in [query["sql"] for query in captured.captured_queries]


def generic_plans_after_runs(runs: int, *, reuse: bool) -> int:
    """Run one statement `runs` times on this connection (psycopg prepares it after a few) and
    say how many of the runs PostgreSQL served with its one generic plan."""
    with transaction.atomic():
        if reuse:
            with connection.cursor() as cursor:
                cursor.execute(SET_AUTO)
        with connection.cursor() as cursor:
            for pk in range(runs):
                cursor.execute("SELECT id FROM auth_user WHERE id = %s /* plan-test */", [pk])
            cursor.execute("SELECT COALESCE(SUM(generic_plans), 0) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["%plan-test%"])  # fmt: skip
            return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_postgresql_reuses_a_plan_only_where_the_page_allows_it():
    """What the middleware's SET LOCAL buys: with it a prepared statement's later runs reuse one
    plan; without it (every other statement, the queues' claims among them) none does."""
    assert generic_plans_after_runs(12, reuse=False) == 0
    assert generic_plans_after_runs(12, reuse=True) > 0
