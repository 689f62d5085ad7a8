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
