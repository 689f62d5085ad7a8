"""The thread's history: every service that changes a thread records one ConversationActivity
with who did it (None when the system did it by itself); a no-op records nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import inbound_batch, services
from conversations.models import Conversation, ConversationActivity
from conversations.selectors import conversation_history
from tests.conversations.conftest import FakeClient, inbound, profile

WA_ID = "4915100000401"


def write(number, text="Hallo", *, wa_id=WA_ID):
    return services.inbound_message_receive(
        number=number, message=inbound(at=timezone.now(), wa_id=wa_id, text=text), profile=profile(wa_id=wa_id)
    ).conversation


def recorded(conversation) -> list[tuple]:
    """The thread's entries, oldest first, as (kind, actor, detail...)."""
    return list(
        ConversationActivity.objects.filter(conversation=conversation)
        .order_by("at", "id")
        .values_list("kind", "actor__username", "assignee__username", "status", "label")
    )


@pytest.mark.django_db
def test_assigning_records_who_assigned_whom_and_a_repeat_records_nothing(agent, teammate, number):
    conversation = write(number)
    services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)
    services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)  # no change
    services.conversation_assign(conversation=conversation, assignee=None, by=teammate)
    services.conversation_assign(conversation=conversation, assignee=None, by=teammate)  # no change
    assert recorded(conversation) == [
        ("assigned", "alice", "bob", "", ""),
        ("unassigned", "bob", None, "", ""),
    ]


@pytest.mark.django_db
def test_status_changes_record_the_status_or_the_snooze_time(agent, number):
    conversation = write(number)
    now = timezone.now()
    until = now + timedelta(days=2)
    services.conversation_status_set(conversation=conversation, status="resolved", by=agent, now=now)
    services.conversation_status_set(conversation=conversation, status="resolved", by=agent, now=now)  # no change
    services.conversation_status_set(conversation=conversation, status="snoozed", snooze_until=until, by=agent, now=now)
    assert recorded(conversation) == [("status", "alice", None, "resolved", ""), ("snoozed", "alice", None, "", "")]
    snoozed = ConversationActivity.objects.get(kind="snoozed")
    assert (snoozed.snooze_until, snoozed.at) == (until, now)


@pytest.mark.django_db
def test_labels_record_adding_and_removing_once(agent, number):
    conversation = write(number)
    services.conversation_label_add(conversation=conversation, name="refund", by=agent)
    services.conversation_label_add(conversation=conversation, name="Refund", by=agent)  # already there
    services.conversation_label_remove(conversation=conversation, name="refund", by=agent)
    services.conversation_label_remove(conversation=conversation, name="refund", by=agent)  # already gone
    services.conversation_label_remove(conversation=conversation, name="never-made", by=agent)  # no such label
    assert recorded(conversation) == [
        ("label_added", "alice", None, "", "refund"),
        ("label_removed", "alice", None, "", "refund"),
    ]


@pytest.mark.django_db
def test_sending_a_failed_message_again_records_who_did(agent, number, monkeypatch):
    monkeypatch.setattr("whatsapp.client.get_client", lambda: FakeClient())
    conversation = write(number)
    sent = services.message_send_text(conversation=conversation, sender=agent, text="Ihr Paket kommt morgen.")
    failed = services.message_send_failed(message_id=sent.pk, code=131000, reason="Meta said no")
    services.message_retry(message=failed, by=agent)
    assert recorded(conversation) == [("retried", "alice", None, "", "")]


@pytest.mark.django_db
def test_a_customer_writing_reopens_automatically_and_an_open_thread_records_nothing(agent, number):
    conversation = write(number)
    write(number, "Noch da?")  # open already
    services.conversation_status_set(conversation=conversation, status="resolved", by=agent)
    write(number, "Eine Frage noch")
    assert recorded(conversation) == [("status", "alice", None, "resolved", ""), ("reopened", None, None, "", "")]


@pytest.mark.django_db
def test_a_snoozed_thread_wakes_automatically(agent, number):
    conversation = write(number)
    now = timezone.now()
    services.conversation_status_set(
        conversation=conversation, status="snoozed", snooze_until=now + timedelta(hours=1), by=agent, now=now
    )
    assert services.conversations_wake_snoozed(now=now + timedelta(minutes=30)) == 0
    assert services.conversations_wake_snoozed(now=now + timedelta(hours=2)) == 1
    assert [kind for kind, *_ in recorded(conversation)] == ["snoozed", "woke"]
    assert ConversationActivity.objects.get(kind="woke").actor is None


@pytest.mark.django_db
def test_the_batch_path_records_each_thread_it_reopens_in_its_one_update(agent, number):
    resolved, pending, already_open = (write(number, wa_id=f"49151000005{i:02d}") for i in range(3))
    services.conversation_status_set(conversation=resolved, status="resolved", by=agent)
    services.conversation_status_set(conversation=pending, status="pending", by=agent)
    customers = [resolved, resolved, pending, already_open]  # two messages to one thread: one reopen
    items = [
        (number, inbound(at=timezone.now(), wa_id=c.contact.wa_id), profile(wa_id=c.contact.wa_id)) for c in customers
    ]
    assert all(inbound_batch.takes(message, p) for _n, message, p in items)
    inbound_batch.receive(items)
    reopened = ConversationActivity.objects.filter(kind="reopened")
    assert sorted(reopened.values_list("conversation_id", flat=True)) == sorted([resolved.pk, pending.pk])
    assert {(a.actor_id, a.status, a.label) for a in reopened} == {(None, "", "")}
    assert set(Conversation.objects.values_list("status", flat=True)) == {"open"}


@pytest.mark.django_db
def test_the_history_is_one_query_newest_first_however_long(agent, teammate, number):
    conversation = write(number)
    for i in range(12):
        services.conversation_label_add(conversation=conversation, name=f"label {i}", by=agent)
        services.conversation_assign(conversation=conversation, assignee=teammate if i % 2 else agent, by=agent)
    with CaptureQueriesContext(connection) as captured:
        history = conversation_history(conversation)
        names = [(entry.actor.username, entry.assignee and entry.assignee.username) for entry in history]
    assert len(captured) == 1
    assert len(history) == len(names) == 10
    assert history[0].kind == "assigned" and history[1].label == "label 11"  # newest first


@pytest.mark.django_db
def test_deleting_the_actor_keeps_the_entry(agent, teammate, number):
    conversation = write(number)
    services.conversation_assign(conversation=conversation, assignee=agent, by=teammate)
    teammate.delete()
    entry = ConversationActivity.objects.get()
    assert (entry.kind, entry.actor, entry.assignee) == ("assigned", None, agent)


@pytest.mark.django_db
def test_the_demo_threads_have_a_history_of_people_at_work():
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    entries = set(ConversationActivity.objects.values_list("kind", "actor__username", "status"))
    assert {("assigned", "admin", ""), ("label_added", "agent", ""), ("status", "agent", "resolved")} <= entries
    recorded_once = ConversationActivity.objects.count()
    call_command("seed_demo", stdout=io.StringIO())  # idempotent: nothing changes, nothing is recorded
    assert ConversationActivity.objects.count() == recorded_once
