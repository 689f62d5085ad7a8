"""The window rule has two forms: conversations/window.py (Python, for one thread) and
selectors.window_open_q (SQL, for lists and filters). They must agree on every input, including
the edges: exactly 24 hours, a 131047 closing at, before or after the last inbound message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conversations import window
from conversations.models import Contact, Conversation
from conversations.selectors import window_open_q
from tests.conversations.conftest import utc

T0 = utc(2026, 6, 1, 10, 0, 0)
# Offsets in seconds around the interesting points (0 and 24 h), so the edges are hit often.
EDGES = st.sampled_from([0, 1, -1, 86_399, 86_400, 86_401, -86_400])
OFFSETS = st.one_of(EDGES, st.integers(min_value=-3 * 86_400, max_value=3 * 86_400))


@pytest.fixture
def conversation(number):
    contact = Contact.objects.create(wa_id="4915112345678")
    return Conversation.objects.create(number=number, contact=contact)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inbound=st.one_of(st.none(), OFFSETS),
    closed=st.one_of(st.none(), OFFSETS),
    now=OFFSETS,
)
@example(inbound=0, closed=None, now=86_399)
@example(inbound=0, closed=None, now=86_400)
@example(inbound=0, closed=0, now=0)
@example(inbound=0, closed=-1, now=1)
def test_the_sql_window_agrees_with_the_python_one(conversation, inbound, closed, now):
    last_inbound_at = None if inbound is None else T0 + timedelta(seconds=inbound)
    closed_at = None if closed is None else T0 + timedelta(seconds=closed)
    at = T0 + timedelta(seconds=now)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=last_inbound_at, window_closed_at=closed_at)

    in_sql = Conversation.objects.filter(window_open_q(at), pk=conversation.pk).exists()

    assert in_sql == window.is_open(last_inbound_at, at, closed_at=closed_at)


def test_only_messages_from_the_customer_renew_the_window():
    assert window.renews_window("text") and window.renews_window("image") and window.renews_window("button")
    assert not any(window.renews_window(kind) for kind in ("reaction", "system", "unsupported"))
