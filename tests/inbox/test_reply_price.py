"""Inside the window a reply is free within the number's monthly tier; once the tier is used up
(from 2026-10-01) the composer says what the reply will cost before the agent sends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conversations.conftest import receive


@pytest.mark.django_db
def test_the_composer_shows_a_replys_price_only_past_the_free_tier(client, agent, number, settings):
    thread = receive(number, at=timezone.now() - timedelta(hours=1)).conversation
    client.force_login(agent)

    assert b"This reply costs" not in client.get(f"/inbox/c/{thread.pk}/").content

    settings.BILLING_SERVICE_FREE_TIER = 0  # the month's free service messages are used up
    page = client.get(f"/inbox/c/{thread.pk}/").content.decode()
    assert "This reply costs" in page and "USD" in page
