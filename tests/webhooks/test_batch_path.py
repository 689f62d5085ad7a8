"""The processor's set-based path for plain customer messages gives what the one-by-one path
gives (threads, windows, counters, names, reopened threads), takes a fixed number of statements
per batch, and hands everything it does not take, or fails on, to the one-by-one path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from conversations import inbound_batch
from conversations.models import Contact, Conversation, Message
from tests.webhooks.helpers import envelope, fresh_wamid, messages_change, text_message, unix
from webhooks import intake, processor
from webhooks.models import WebhookEvent

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def queued(settings):
    settings.WEBHOOKS_PROCESS_INLINE = False


def store(number, parts: list[dict], contacts: list[dict] | None = None) -> None:
    value = {"messages": parts}
    if contacts:
        value["contacts"] = contacts
    intake.event_store(body=json.dumps(envelope(messages_change(number, **value))).encode(), headers={})


def profile(wa_id: str, name: str) -> dict:
    return {"profile": {"name": name}, "wa_id": wa_id}


@pytest.mark.django_db
def test_plain_messages_make_the_same_threads_as_one_by_one(number):
    # A resolved thread with an old window, to be reopened and moved by the batch.
    old = Contact.objects.create(wa_id="4915100000001", profile_name="Alt Name", market="DE")
    Conversation.objects.create(
        number=number, contact=old, status="resolved", last_inbound_at=T0 - timedelta(days=2), unread_count=0
    )
    later, earlier = unix(T0 + timedelta(minutes=5)), unix(T0)
    store(number, [text_message(fresh_wamid(), wa_id="4915100000001", ts=later)], [profile("4915100000001", "Neu")])
    store(number, [text_message(fresh_wamid(), wa_id="4915100000001", ts=earlier)])  # arrives late
    store(number, [text_message(fresh_wamid(), wa_id="4915100000002", ts=earlier)], [profile("4915100000002", "Eva")])

    assert processor.batch_process() == 3

    thread = Conversation.objects.get(contact__wa_id="4915100000001")
    assert thread.status == "open" and thread.unread_count == 2
    assert thread.last_inbound_at == T0 + timedelta(minutes=5)  # only forward, by Meta's clock
    assert thread.contact.profile_name == "Neu"
    new = Conversation.objects.get(contact__wa_id="4915100000002")
    assert (new.unread_count, new.last_inbound_at, new.contact.profile_name, new.contact.market) == (1, T0, "Eva", "DE")
    assert not WebhookEvent.objects.exclude(state="processed").exists()
    assert WebhookEvent.objects.first().notes == [{"counts": {"messages_new": 1}}]


@pytest.mark.django_db
def test_what_the_batch_path_does_not_take_goes_one_by_one_in_the_same_batch(number):
    plain, stop, reaction = fresh_wamid(), fresh_wamid(), fresh_wamid()
    store(number, [text_message(plain, wa_id="4915100000003")])
    store(number, [text_message(stop, wa_id="4915100000004", body="STOP")])  # an opt-out keyword
    store(
        number,
        [{"from": "4915100000003", "id": reaction, "timestamp": "1790417200", "type": "reaction",
          "reaction": {"message_id": plain, "emoji": "👍"}}],
    )  # fmt: skip

    assert processor.batch_process() == 3

    assert Message.objects.filter(wamid__in=[plain, stop, reaction]).count() == 3
    assert Contact.objects.get(wa_id="4915100000004").marketing_opted_out
    assert not WebhookEvent.objects.exclude(state="processed").exists()


@pytest.mark.django_db
def test_a_duplicate_in_the_batch_is_counted_not_stored_twice(number):
    wamid = fresh_wamid()
    store(number, [text_message(wamid, wa_id="4915100000005")])
    store(number, [text_message(wamid, wa_id="4915100000005"), text_message(fresh_wamid(), wa_id="4915100000005")])
    assert processor.batch_process() == 2
    assert Message.objects.filter(wamid=wamid).count() == 1
    assert Conversation.objects.get().unread_count == 2


@pytest.mark.django_db
def test_a_batch_of_plain_messages_takes_a_fixed_number_of_statements(number, django_assert_max_num_queries):
    for i in range(150):
        store(number, [text_message(fresh_wamid(), wa_id=f"49151{i:08d}")], [profile(f"49151{i:08d}", f"K {i}")])
    # Claim, find duplicates, contacts (find, create, lock, rename), threads (lock, create, lock),
    # messages, thread moves, finish events, savepoints: the same for 150 messages as for 5.
    with django_assert_max_num_queries(20):
        assert processor.batch_process(limit=200) == 150
    assert Message.objects.count() == 150


@pytest.mark.django_db
def test_when_the_batch_path_fails_every_message_still_lands(number, monkeypatch):
    def broken(items):
        Message.objects.create(conversation=None, direction="in", status="received")  # violates NOT NULL

    monkeypatch.setattr(inbound_batch, "receive", broken)
    wamids = [fresh_wamid() for _ in range(4)]
    for i, wamid in enumerate(wamids):
        store(number, [text_message(wamid, wa_id=f"491510000010{i}")])

    assert processor.batch_process() == 4

    assert set(Message.objects.values_list("wamid", flat=True)) == set(wamids)
    assert not WebhookEvent.objects.exclude(state="processed").exists()


@pytest.mark.django_db
def test_an_absurd_timestamp_is_clamped_and_said_so_on_the_event(number):
    wamid = fresh_wamid()
    store(number, [text_message(wamid, wa_id="4915100000200", ts=253402300799)])  # 9999-12-31

    assert processor.batch_process() == 1

    event = WebhookEvent.objects.get()
    assert event.state == "processed"
    notes = [note for note in event.notes if note.get("kind") == "timestamp_clamped"]
    assert notes and notes[0]["id"] == wamid and notes[0]["sent"] == "253402300799"
    thread = Conversation.objects.get(contact__wa_id="4915100000200")
    assert thread.last_inbound_at < event.received_at + timedelta(minutes=6)
