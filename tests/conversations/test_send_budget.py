"""What one delivery costs the database: the query budget of `message_deliver` for a template."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import live
from conversations import services, tasks
from conversations.models import Message
from tests.conversations.conftest import receive
from tests.conversations.test_send_template import GOOD, LATE, T0

# Load the message with its number and contact, claim it, then record the send: the wamid lock,
# the row under lock, its UPDATE, the sender's callbacks, parked early statuses. (It was 9:
# the pacing line was read in a query of its own, and the message was read again at the end.)
DELIVERY_QUERIES = 7


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.mark.django_db
def test_one_delivery_stays_within_its_query_budget(number, agent, order_update, fake_client):  # noqa: F811
    conversation = receive(number, at=T0).conversation
    message = services.message_send_template(
        conversation=conversation, sender=agent, template="order_update", language="de", parameters=GOOD, now=LATE
    )
    live._live_campaign_ids()  # the per-process list of live campaigns is read once every few seconds
    with CaptureQueriesContext(connection) as captured:
        tasks.message_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(fake_client.sent) == 1
    statements = _statements(captured.captured_queries)
    assert len(statements) <= DELIVERY_QUERIES, "\n".join(statements)
