"""What one notification costs the database on the sending path (issue 11), and the guarantees
kept while cutting it: a refusal before any write leaves the caller's transaction usable, a
budget refusal after the message's INSERT can never be committed as half a send."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import BillingRecord, Budget
from conversations import services
from conversations.exceptions import BudgetExceeded, OptedOut
from conversations.models import Contact, Conversation, Message
from notifications.services import notification_send
from tests.conversations.test_send_template import GOOD, T0

# A notification to a customer we already have a thread with (all counted, savepoints too):
#  1 the sender's role (auth groups, for the numbers they may send from)
#  2 the business number
#  3 the contact by wa_id
#  4 the thread, locked (SELECT ... FOR NO KEY UPDATE); its number and contact are the two above
#  5 the template with its sending version (approval, parameters)
#  6 INSERT the message
#  7 the pricing rule in force (the latest rule set's date is a subquery)
#  8 the recipient's market (calling-code prefixes and country)
#  9 the number's budget (for the card's currency and the hard stop)
# 10 the rate card in force
# 11 the card's price and its volume tiers (one UNION ALL)
# 12 the number's month usage, locked (free tier position, spent so far)
# 13 INSERT the billing record (unique per message)
# 14 INSERT ... ON CONFLICT the day's rollup rows
# 15 UPDATE the month usage (spent)
# 16 UPDATE the thread (last message, unread)
# It was 31 (29 outside a test's transaction): four savepoints, the number, the contact and the
# thread read again, the rule's date, the budget and the tiers in statements of their own, and
# an INSERT before the usage row's lock.
KNOWN_CONTACT_QUERIES = 16
# A new customer adds the contact's and the thread's INSERTs, each in the savepoint that lets a
# racing creator win (2 x 3 statements), and the thread's read after its INSERT. It was 38.
NEW_CONTACT_QUERIES = 23


def _notify(agent, to, *, template="order_update", parameters=GOOD):
    return notification_send(user=agent, to=to, template=template, language="de", parameters=parameters, now=T0)


def _statements(captured) -> str:
    return "\n".join(q["sql"][:160] for q in captured)


@pytest.mark.django_db
def test_a_notification_to_a_known_customer_stays_within_its_query_budget(agent, order_update):
    _notify(agent, "+4915123456780")  # the month's usage row and the thread exist from here on
    with CaptureQueriesContext(connection) as captured:
        message = _notify(agent, "+4915123456780")
    assert len(captured) <= KNOWN_CONTACT_QUERIES, _statements(captured)
    assert BillingRecord.objects.filter(message=message).count() == 1
    assert Message.objects.filter(direction="out").count() == 2


@pytest.mark.django_db
def test_a_notification_to_a_new_customer_stays_within_its_query_budget(agent, order_update):
    _notify(agent, "+4915123456780")
    with CaptureQueriesContext(connection) as captured:
        message = _notify(agent, "+4915123456781")
    assert len(captured) <= NEW_CONTACT_QUERIES, _statements(captured)
    assert message.conversation.contact.wa_id == "4915123456781"
    assert BillingRecord.objects.filter(message=message).count() == 1


@pytest.mark.django_db
def test_marketing_notification_to_an_opted_out_customer_is_refused(agent, spring_sale, order_update):
    _notify(agent, "+4915123456780")
    services.contact_opt_out(contact=Contact.objects.get(wa_id="4915123456780"), source="keyword", at=T0)
    # notification_send has no savepoint: a refusal is for its caller's transaction to roll back.
    with pytest.raises(OptedOut), transaction.atomic():
        _notify(agent, "+4915123456780", template="spring_sale", parameters={"body": ["Jana", "20 %"]})
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.django_db
def test_a_refusal_before_any_write_leaves_the_callers_transaction_usable(agent, number, spring_sale):
    contact = services.contact_for_identity(wa_id="4915123456780", user_id=None)
    services.contact_opt_out(contact=contact, source="keyword", at=T0)
    thread = Conversation.objects.create(number=number, contact=contact)
    with transaction.atomic():
        with pytest.raises(OptedOut):
            services.message_send_template(
                conversation=thread, sender=agent, template="spring_sale", language="de",
                parameters={"body": ["Jana", "20 %"]}, now=T0,
            )  # fmt: skip
        assert not connection.needs_rollback
        Contact.objects.filter(pk=contact.pk).update(name="still usable")
    assert Contact.objects.get(pk=contact.pk).name == "still usable"


@pytest.mark.django_db
def test_a_budget_refusal_cannot_be_committed_as_half_a_send(agent, number, order_update):
    """The message is INSERTed before billing refuses it: without a savepoint, the caller's
    transaction must be left for rollback, never committed with a message and no record."""
    thread = services.conversation_get_or_create(
        number=number, contact=services.contact_for_identity(wa_id="4915123456780", user_id=None)
    )
    Budget.objects.create(number=number, amount=Decimal("0.0001"), currency="USD", hard_stop=True)
    refused = False
    with transaction.atomic():  # a caller that catches the refusal and carries on
        try:
            services.message_send_template(
                conversation=thread, sender=agent, template="order_update", language="de", parameters=GOOD, now=T0
            )
        except BudgetExceeded:
            refused = True
            assert connection.needs_rollback  # the block ends in a rollback, not a commit
    assert refused
    assert not Message.objects.filter(direction="out").exists()
    assert not BillingRecord.objects.exists()
