"""The list row shows the thread's real latest activity: the last message of either side, with
its own time, whatever it was (a reply, a template, a note, a reaction, a failure)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import Message
from inbox import queries
from tests.conversations.conftest import inbound, profile
from tests.conversations.test_send_template import GOOD


def customer_writes(number, text="Wo ist mein Paket?", *, minutes_ago=30, wa_id="4915100000501", **extra):
    return services.inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now() - timedelta(minutes=minutes_ago), wa_id=wa_id, text=text, **extra),
        profile=profile(wa_id=wa_id, name="Jana Schmidt"),
    )


def row_html(client, conversation) -> str:
    html = client.get("/inbox/?status=all").content.decode()
    match = re.search(rf'<li id="conv-row-{conversation.pk}".*?</li>', html, re.S)
    assert match, "the row is on the list"
    return match.group(0)


def snippet(row: str) -> str:
    inner = re.search(r'<span class="snippet">(.*?)</span>\s*(<span class="unread|</span>)', row, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def shown_time(row: str) -> str:
    return re.search(r'<time datetime="([^"]+)"', row).group(1)


def iso(value) -> str:
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat()


@pytest.mark.django_db
def test_a_reply_shows_as_you_with_its_time(client, agent, number):
    conversation = customer_writes(number).conversation
    reply = services.message_send_text(conversation=conversation, sender=agent, text="Es kommt morgen.")
    client.force_login(agent)
    row = row_html(client, conversation)
    assert snippet(row) == "You: Es kommt morgen."
    reply.refresh_from_db()
    assert shown_time(row) == iso(reply.sent_at or reply.created_at)  # the time its bubble shows


@pytest.mark.django_db
def test_a_template_sent_shows_its_text(client, agent, number, order_update):  # noqa: F811
    conversation = customer_writes(number, minutes_ago=3 * 24 * 60).conversation
    services.message_send_template(
        conversation=conversation, sender=agent, template="order_update", language="de", parameters=GOOD
    )
    client.force_login(agent)
    assert (
        snippet(row_html(client, conversation))
        == "You: Bestellung 1042 Hallo Jana, deine Bestellung ist unterwegs. Dein Shop Verfolgen"
    )


@pytest.mark.django_db
def test_a_note_is_the_latest_activity_with_its_own_time_and_moves_the_row_up(client, agent, number):
    noted = customer_writes(number, minutes_ago=60).conversation
    other = customer_writes(number, "Hallo?", minutes_ago=10, wa_id="4915100000502").conversation
    note = services.note_add(conversation=noted, author=agent, text="Ruft morgen wieder an")
    client.force_login(agent)
    row = row_html(client, noted)
    assert snippet(row) == "Note: Ruft morgen wieder an"
    assert shown_time(row) == iso(note.created_at)
    html = client.get("/inbox/?status=all").content.decode()
    assert html.index(f'id="conv-row-{noted.pk}"') < html.index(f'id="conv-row-{other.pk}"')


@pytest.mark.django_db
def test_a_failed_reply_says_it_was_not_delivered(client, agent, number):
    conversation = customer_writes(number).conversation
    reply = services.message_send_text(conversation=conversation, sender=agent, text="Es kommt morgen.")
    Message.objects.filter(pk=reply.pk).update(status=Message.Status.FAILED, error_code=131026)
    client.force_login(agent)
    assert snippet(row_html(client, conversation)) == "Not delivered You: Es kommt morgen."


@pytest.mark.django_db
def test_a_reaction_reads_as_one_and_a_removed_reaction_is_not_activity(client, agent, number):
    first = customer_writes(number, "Danke!")
    conversation = first.conversation
    services.message_send_text(conversation=conversation, sender=agent, text="Gern!")
    reaction = customer_writes(number, "👍", minutes_ago=1, type="reaction", reaction_to=first.wamid)
    assert reaction is not None and reaction.type == "reaction"
    client.force_login(agent)
    assert snippet(row_html(client, conversation)) == "Reacted 👍"
    customer_writes(number, "❤️", minutes_ago=1, type="reaction", reaction_to=first.wamid)  # changes it
    assert snippet(row_html(client, conversation)) == "Reacted ❤️"
    # The customer takes the reaction back: an empty reaction, not something to preview.
    customer_writes(number, "", minutes_ago=0, type="reaction", reaction_to=first.wamid)
    assert snippet(row_html(client, conversation)) == "You: Gern!"


@pytest.mark.django_db
def test_the_live_row_shows_the_same_as_the_list(agent, number):
    conversation = customer_writes(number).conversation
    services.note_add(conversation=conversation, author=agent, text="Bitte zurückrufen")
    for row in (queries.conversation_row(agent, conversation.pk), queries.conversation_row_unchecked(conversation.pk)):
        assert (row.last_text, row.last_status, row.last_direction) == ("Bitte zurückrufen", "note", "out")
        assert row.last_at is not None


@pytest.mark.django_db
def test_the_row_names_people_as_the_thread_does(client, agent, teammate, number):
    """The row is read by hand (inbox/list_rows.py): it names the customer, the number and the
    assignee as the models do, and shows the labels by name."""
    conversation = customer_writes(number).conversation
    client.force_login(agent)
    row = row_html(client, conversation)
    assert "Jana Schmidt" in row and ">J</span>" in row  # the WhatsApp profile name and its initial
    assert f'<span class="muted">{conversation.number}</span>' in row
    assert 'class="assignee muted">unassigned' in row and "label-chip" not in row

    conversation.contact.name = "Frau Schmidt (Stammkundin)"
    conversation.contact.save()
    services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)
    for name in ("vip", "Beschwerde"):
        services.conversation_label_add(conversation=conversation, name=name, by=agent)
    row = row_html(client, conversation)
    assert "Frau Schmidt (Stammkundin)" in row and ">F</span>" in row  # the agent's name for the customer wins
    assert '<span class="assignee" title="Assigned to">bob</span>' in row  # no full name: the username
    assert re.findall(r'class="label-chip">([^<]+)<', row) == ["Beschwerde", "vip"]
    teammate.first_name, teammate.last_name = "Bob", "Berg"
    teammate.save()
    assert ">Bob Berg</span>" in row_html(client, conversation)

    conversation.contact.name, conversation.contact.profile_name = "", ""
    conversation.contact.save()
    row = row_html(client, conversation)
    assert "+4915100000501" in row and ">4</span>" in row  # the number, and its first digit


@pytest.mark.django_db
def test_a_page_of_rows_speaks_the_viewers_language(client, agent, teammate, number):
    """The rows' words are looked up once per page and language (inbox.fragments.conversation_rows)."""
    waiting = customer_writes(number, wa_id="4915100000601").conversation
    services.conversation_status_set(conversation=waiting, status="pending", by=agent)
    mine = customer_writes(number, wa_id="4915100000602").conversation
    services.conversation_assign(conversation=mine, assignee=teammate, by=agent)
    client.force_login(agent)
    for language, words in {
        "de": ("Wartend", "nicht zugewiesen", 'title="Zugewiesen an"'),
        "en": ("Pending", "unassigned", 'title="Assigned to"'),
    }.items():
        html = client.get("/inbox/?status=all", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        rows = {pk: re.search(rf'<li id="conv-row-{pk}".*?</li>', html, re.S).group(0) for pk in (waiting.pk, mine.pk)}
        pending, unassigned, assigned = words
        assert f'<span class="badge status-pending">{pending}</span>' in rows[waiting.pk]
        assert unassigned in rows[waiting.pk] and assigned in rows[mine.pk]
        assert "status-pending" not in rows[mine.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [4, 24])
def test_the_list_runs_a_fixed_number_of_queries_whatever_the_last_activity(
    client,
    agent,
    number,
    order_update,  # noqa: F811
    rows,
    django_assert_num_queries,
):
    from tests.inbox.test_inbox_pages import QUERIES_ON_THE_LIST_PAGE

    for i in range(rows):
        conversation = customer_writes(
            number, f"Frage {i}", wa_id=f"49151000006{i:02d}", minutes_ago=60 + i
        ).conversation
        kind = i % 4
        if kind == 1:
            services.message_send_text(conversation=conversation, sender=agent, text=f"Antwort {i}")
        elif kind == 2:
            services.note_add(conversation=conversation, author=agent, text=f"Notiz {i}")
        elif kind == 3:
            services.message_send_template(
                conversation=conversation, sender=agent, template="order_update", language="de", parameters=GOOD
            )
    client.force_login(agent)
    client.get("/inbox/")
    with django_assert_num_queries(QUERIES_ON_THE_LIST_PAGE):
        response = client.get("/inbox/")
    assert response.content.decode().count('class="snippet"') == rows


@pytest.mark.django_db
def test_the_one_statement_and_the_orm_read_the_same_rows(agent, teammate, number):
    """PostgreSQL reads the rows in one statement, SQLite (`make run`) through the ORM
    (inbox/list_rows.py): every kind of last activity, label, assignee and name reads the same."""
    from inbox import list_rows

    threads = []
    first = customer_writes(number, "Danke!", wa_id="4915100000701")
    threads.append(first.conversation)
    services.message_send_text(conversation=first.conversation, sender=agent, text="Gern!")
    customer_writes(number, "", wa_id="4915100000701", minutes_ago=1, type="reaction", reaction_to=first.wamid)
    noted = customer_writes(number, wa_id="4915100000702").conversation
    services.note_add(conversation=noted, author=agent, text="Bitte zurückrufen")
    services.conversation_assign(conversation=noted, assignee=teammate, by=agent)
    for name in ("vip", "Beschwerde"):
        services.conversation_label_add(conversation=noted, name=name, by=agent)
    failed = customer_writes(number, wa_id="4915100000703").conversation
    reply = services.message_send_text(conversation=failed, sender=agent, text="Hallo?")
    Message.objects.filter(pk=reply.pk).update(status="failed", error_code=131047)
    named = customer_writes(number, wa_id="4915100000704").conversation
    named.contact.name = "Frau Schmidt"
    named.contact.save()
    services.conversation_assign(conversation=named, assignee=agent, by=agent)
    agent.first_name = "Alice"
    agent.save()
    threads += [noted, failed, named]
    ids = [t.pk for t in threads]
    by_statement, by_orm = list_rows._rows_in_one_statement(ids), list_rows._rows_by_the_orm(ids)
    assert sorted(by_statement, key=lambda row: row.pk) == sorted(by_orm, key=lambda row: row.pk)
    shown = {row.pk: (row.last_text, row.contact, row.assignee, row.labels) for row in by_orm}
    assert shown == {
        threads[0].pk: ("Gern!", "Jana Schmidt", "", ()),  # the reaction taken back is not activity
        noted.pk: ("Bitte zurückrufen", "Jana Schmidt", "bob", ("Beschwerde", "vip")),
        failed.pk: ("Hallo?", "Jana Schmidt", "", ()),
        named.pk: ("Wo ist mein Paket?", "Frau Schmidt", "Alice", ()),
    }
    assert next(row for row in by_orm if row.pk == failed.pk).last_status == "failed"
