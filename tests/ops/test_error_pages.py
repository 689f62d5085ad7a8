"""Error pages hold no database connection past the request (issue 7, item 3)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory

from inbox.context_processors import navigation


@pytest.mark.django_db(transaction=True)
def test_navigation_gives_back_a_connection_it_opened(agent):
    # As in the thread Django renders error pages in: no connection open, none closed for it later.
    user = get_user_model().objects.get(pk=agent.pk)  # no cached permissions
    connection.close()
    request = RequestFactory().get("/no-such-page/")
    request.user = user
    context = navigation(request)
    assert ("inbox:index", "Inbox") in [(name, str(label)) for name, label in context["nav_links"]]
    assert context["user_role"] == "agent"
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_navigation_leaves_the_requests_own_connection_open(agent):
    user = get_user_model().objects.get(pk=agent.pk)
    connection.ensure_connection()
    request = RequestFactory().get("/inbox/")
    request.user = user
    navigation(request)
    assert connection.connection is not None


@pytest.mark.django_db
def test_unknown_pages_are_404_and_a_missing_slash_still_redirects(client, agent):
    client.force_login(agent)
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/inbox/c/999999/").status_code == 404
    response = client.get("/settings")
    assert response.status_code == 301 and response["Location"] == "/settings/"
    assert client.get("/billing/").status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/no-such-page/", "/billing/"])
async def test_an_error_page_under_asgi_renders_in_the_requests_own_thread(client, agent, monkeypatch, path):
    """Under ASGI Django renders a 403 or 404 page in a thread of its own, whose navigation takes
    a second pooled connection while the request's first is still out: right after a PostgreSQL
    restart, with the pool short, such pages waited and failed. Here they render where the
    request's middleware ran, on its connection."""
    import threading

    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from inbox import context_processors, middleware

    request_threads, navigation_threads = set(), set()

    def traced(function, threads):
        def call(*args, **kwargs):
            threads.add(threading.get_ident())
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(middleware, "_zone", traced(middleware._zone, request_threads))
    monkeypatch.setattr(context_processors, "role_of", traced(context_processors.role_of, navigation_threads))
    await sync_to_async(client.force_login)(agent)
    browser = AsyncClient()
    browser.cookies = client.cookies
    response = await browser.get(path)
    assert response.status_code in (403, 404)
    assert navigation_threads and navigation_threads == request_threads
