"""The agent's inbox pages through the Django test client on PostgreSQL."""

from __future__ import annotations

import itertools
import re
import uuid
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from conversations import services
from conversations.models import Conversation, Message
from tests.conversations.conftest import FakeClient, inbound, profile

_numbers = itertools.count(4915100000000)


@pytest.fixture
def fake_client(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr("whatsapp.client.get_client", lambda: client)
    return client


def chat(number, *, hours_ago: float = 1, text: str = "Hallo, wo ist mein Paket?", name: str = "Jana Schmidt"):
    """A customer's message through the real receive service; returns its conversation."""
    wa_id = str(next(_numbers))
    message = services.inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now() - timedelta(hours=hours_ago), wa_id=wa_id, text=text),
        profile=profile(wa_id=wa_id, name=name),
    )
    return message.conversation


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="conv-row-(\d+)"', html)]


# --- the list ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_each_conversation_with_window_unread_and_number(client, agent, number):
    conversation = chat(number, hours_ago=20.8, text="Wo bleibt meine Bestellung?")
    client.force_login(agent)
    response = client.get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Inbox</h1>" in html
    assert row_ids(html) == [conversation.pk]
    assert "Jana Schmidt" in html
    assert "Wo bleibt meine Bestellung?" in html
    assert "Support DE" in html
    assert re.search(r"window open · 3 h \d+ min left", html)
    assert 'class="unread-badge"' in html
    assert 'ws-connect="/ws/inbox/"' in html


@pytest.mark.django_db
def test_the_list_shows_times_in_the_viewers_zone(client, agent, number):
    conversation = chat(number, hours_ago=0.01)
    client.force_login(agent)
    client.cookies["tz"] = "Asia/Kolkata"
    html = client.get("/inbox/").content.decode()
    local = timezone.localtime(conversation.last_message_at, zoneinfo.ZoneInfo("Asia/Kolkata"))
    title = date_format(local, "DATETIME_FORMAT")
    assert f'<time datetime="{local.isoformat()}" title="{title}">{local:%H:%M}</time>' in html


@pytest.mark.django_db
def test_filters_status_mine_unassigned_and_window(client, agent, teammate, number):
    open_mine = chat(number, hours_ago=1, name="Mine Open")
    services.conversation_assign(conversation=open_mine, assignee=agent, by=agent)
    open_theirs = chat(number, hours_ago=2, name="Theirs Open")
    services.conversation_assign(conversation=open_theirs, assignee=teammate, by=agent)
    closed_unassigned = chat(number, hours_ago=30, name="Closed Window")
    resolved = chat(number, hours_ago=3, name="Resolved One")
    services.conversation_status_set(conversation=resolved, status="resolved", by=agent)
    client.force_login(agent)

    def ids(query: str) -> set[int]:
        return set(row_ids(client.get(f"/inbox/?{query}").content.decode()))

    assert ids("") == {open_mine.pk, open_theirs.pk, closed_unassigned.pk}  # open is the default
    assert ids("status=resolved") == {resolved.pk}
    assert ids("status=all") == {open_mine.pk, open_theirs.pk, closed_unassigned.pk, resolved.pk}
    assert ids("who=mine") == {open_mine.pk}
    assert ids("who=unassigned") == {closed_unassigned.pk}
    assert ids("window=open") == {open_mine.pk, open_theirs.pk}
    assert ids("window=closed") == {closed_unassigned.pk}
    assert ids("q=Closed") == {closed_unassigned.pk}


@pytest.mark.django_db
def test_the_number_filter_for_agents_of_several_numbers(client, admin_user, number, other_number):
    de = chat(number)
    uk = chat(other_number)
    client.force_login(admin_user)
    html = client.get("/inbox/").content.decode()
    assert 'name="number"' in html  # only offered to people with more than one number
    assert set(row_ids(html)) == {de.pk, uk.pk}
    assert row_ids(client.get(f"/inbox/?number={uk.number_id}").content.decode()) == [uk.pk]


@pytest.mark.django_db
def test_keyset_pagination_follows_the_older_link(client, agent, number):
    conversations = [chat(number, hours_ago=i + 1) for i in range(35)]
    client.force_login(agent)
    first = client.get("/inbox/").content.decode()
    assert row_ids(first) == [c.pk for c in conversations[:30]]
    older = re.search(r'id="list-older".*?href="([^"]+)"', first, re.S).group(1).replace("&amp;", "&")
    assert "cursor=" in older
    # The same link answers htmx with just the rows (and no further "older" link at the end).
    response = client.get(older, headers={"HX-Request": "true", "HX-Target": "list-older"})
    rest = response.content.decode()
    assert row_ids(rest) == [c.pk for c in conversations[30:]]
    assert "<h1>" not in rest and "list-older" not in rest


@pytest.mark.django_db
def test_htmx_filter_requests_get_only_the_list(client, agent, number):
    chat(number)
    client.force_login(agent)
    html = client.get("/inbox/?who=mine", headers={"HX-Request": "true", "HX-Target": "conversation-list"}).content
    assert html.decode().lstrip().startswith('<section id="conversation-list"')
    assert b"<html" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 30])
def test_the_list_page_runs_a_fixed_number_of_queries(client, agent, teammate, number, rows, django_assert_num_queries):
    for i in range(rows):
        conversation = chat(number, hours_ago=i + 1)
        services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)
        services.conversation_label_add(conversation=conversation, name=f"label {i % 3}", by=agent)
    client.force_login(agent)
    client.get("/inbox/")  # warm the session and permission caches the same way for both sizes
    with django_assert_num_queries(QUERIES_ON_THE_LIST_PAGE):
        response = client.get("/inbox/")
    assert len(row_ids(response.content.decode())) == rows


@pytest.mark.django_db
@pytest.mark.parametrize("replies", [2, 20])
def test_the_thread_pane_runs_a_fixed_number_of_queries(client, agent, number, replies, django_assert_num_queries):
    """Quotes, senders and reactions come with the messages: more of them read nothing more."""
    conversation = chat(number, text="Geht das?")
    question = conversation.messages.get()
    common = {"conversation": conversation, "direction": "out", "sender": agent, "status": "read"}
    for i in range(replies):
        Message.objects.create(**common, text=f"answer {i}", wamid=f"wq{i}", reply_to=question)
        Message.objects.create(**common, type="reaction", text="👍", wamid=f"wr{i}", reply_to=question)
    # Every other kind of bubble, so a field the bubbles show but the thread's query leaves out
    # (queries.UNSHOWN) would show here as one more query per bubble.
    Message.objects.create(**{**common, "status": "note"}, text="intern")
    Message.objects.create(**common, template_name="order_update", template_language="de", wamid="wt")
    Message.objects.create(**{**common, "status": "failed"}, text="weg", error_code=131047, wamid="wf")
    Message.objects.create(**{**common, "status": "failed"}, text="nie", error_title="Zeitüberschreitung")
    Message.objects.create(**{**common, "status": "queued"}, text="gleich", error_title="Meta antwortet nicht")
    Message.objects.create(
        **{**common, "direction": "in", "status": "received"}, type="image", media_state="failed", media_id="m1"
    )
    client.force_login(agent)
    pane = {"HX-Request": "true", "HX-Target": "thread-pane"}
    client.get(f"/inbox/c/{conversation.pk}/", headers=pane)  # reads the thread (unread badge) once
    with django_assert_num_queries(QUERIES_ON_THE_THREAD_PANE):
        html = client.get(f"/inbox/c/{conversation.pk}/", headers=pane).content.decode()
    assert html.count('class="quote"') == replies and "Geht das?" in html
    assert all(text in html for text in ("intern", "order_update", "weg", "nie", "gleich", "Download failed"))


# the read plans' SET LOCAL (inbox.middleware.ReadsPlannedOnceMiddleware; in production its BEGIN and
# COMMIT too), session, user with profile, groups and permissions (one query), the conversation (with contact, number,
# assignee, labels and the teammates to assign), the messages (with sender and quote), the
# reply's price (2 while the number's free tier lasts), the customer pane's other threads, labels,
# language, notes and the thread's history (one statement, inbox/customer_pane.py).
QUERIES_ON_THE_THREAD_PANE = 8


# the read plans' SET LOCAL, session, user with profile (time zone), groups (role) and permissions in one
# (inbox/auth_backend.py), the
# ids of the page's threads, what their rows show (labels and last message included,
# inbox/list_rows.py), the numbers for the filter, the saved answers.
QUERIES_ON_THE_LIST_PAGE = 7


# --- access --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_agents_see_only_their_numbers_conversations(client, agent, outsider, number):
    conversation = chat(number, text="Geheime Bestellung")
    client.force_login(outsider)
    assert conversation.pk not in row_ids(client.get("/inbox/?status=all").content.decode())
    assert row_ids(client.get("/inbox/?q=Geheime&status=all").content.decode()) == []
    for path in ["", "messages/"]:
        assert client.get(f"/inbox/c/{conversation.pk}/{path}").status_code == 404
    for path in ["send/", "assign/", "status/", "read/", "labels/"]:
        assert client.post(f"/inbox/c/{conversation.pk}/{path}", {"text": "x", "status": "resolved"}).status_code == 404
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_finance_may_not_open_a_thread(client, finance, number):
    conversation = chat(number)
    client.force_login(finance)
    assert client.get(f"/inbox/c/{conversation.pk}/").status_code == 403


# --- the thread ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_thread_shows_messages_and_marks_read(
    client, agent, number, fake_client, django_capture_on_commit_callbacks
):
    conversation = chat(number, text="Erste Frage")
    first_wamid = conversation.messages.get().wamid
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/inbox/c/{conversation.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Erste Frage" in html
    assert "<h1>Inbox</h1>" in html  # the list pane stays next to the thread
    assert "window open · 22 h 59 min left" in html
    assert f'id="thread-{conversation.pk}-composer"' in html and 'name="text"' in html
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert fake_client.read == [first_wamid]  # Meta's read receipt for the customer's message


@pytest.mark.django_db
def test_ticks_failures_notes_templates_replies_and_reactions(client, agent, number):
    conversation = chat(number, text="Geht das?")
    question = conversation.messages.get()
    common = {"conversation": conversation, "direction": "out", "sender": agent}
    Message.objects.create(**common, text="sent one", status="sent", wamid="w1")
    Message.objects.create(**common, text="delivered one", status="delivered", wamid="w2")
    Message.objects.create(**common, text="read one", status="read", wamid="w3", reply_to=question)
    Message.objects.create(**common, text="failed one", status="failed", error_code=131026, client_id=uuid.uuid4())
    Message.objects.create(**common, type="note", text="call her back", status="note", client_id=uuid.uuid4())
    Message.objects.create(
        **common, type="template", text="Your parcel", status="delivered", wamid="w4", template_name="parcel_update"
    )
    Message.objects.create(**common, type="reaction", text="👍", status="sent", wamid="w5", reply_to=question)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'class="ticks ticks-sent"' in html and 'class="ticks ticks-delivered"' in html
    assert 'class="ticks ticks-read"' in html
    assert "Not delivered:" in html
    from whatsapp.errors import reason_for

    assert str(reason_for(131026)) in html
    assert "msg-note" in html and "call her back" in html and "the customer does not see this" in html
    assert "msg-template" in html and "parcel_update" in html
    assert 'class="quote"' in html  # "read one" quotes the customer's question
    assert '<span class="reaction"' in html and "👍" in html


@pytest.mark.django_db
def test_an_image_shows_as_thumbnail_and_a_failed_download_offers_retry(client, agent, number):
    from django.core.files.base import ContentFile

    conversation = chat(number)
    image = Message.objects.create(
        conversation=conversation, direction="in", type="image", status="received", wamid="wi",
        media_id="m1", media_mime_type="image/jpeg", media_filename="foto.jpg", media_state="stored",
    )  # fmt: skip
    image.media_file.save("foto.jpg", ContentFile(b"\xff\xd8jpeg"), save=True)
    Message.objects.create(
        conversation=conversation, direction="in", type="document", status="received", wamid="wd",
        media_id="m2", media_state="failed", media_error="Meta answered 404",
    )  # fmt: skip
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    media_url = f"/inbox/c/{conversation.pk}/m/{image.pk}/media/"
    assert f'<img class="thumb" src="{media_url}"' in html
    assert "Download failed" in html and "Meta answered 404" in html and ">retry</button>" in html
    response = client.get(media_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xff\xd8jpeg"


@pytest.mark.django_db
def test_the_closed_window_replaces_the_text_box_with_an_explanation(client, agent, number):
    conversation = chat(number, hours_ago=30)
    client.force_login(agent)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    expected = date_format(timezone.localtime(conversation.window_expires_at(), berlin), "DATETIME_FORMAT")
    client.cookies["tz"] = "Europe/Berlin"
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert f"The customer's 24-hour window closed at {expected}; only approved templates can be sent now." in html
    assert 'class="reply-form"' not in html  # no text box that looks like it could send
    assert "Add a private note" in html


@pytest.mark.django_db
def test_a_reply_inside_the_window_is_queued_and_shown(client, agent, number, fake_client):
    conversation = chat(number)
    client.force_login(agent)
    response = client.post(
        f"/inbox/c/{conversation.pk}/send/", {"text": "Ist unterwegs!", "client_id": str(uuid.uuid4())}
    )
    sent = Message.objects.get(direction="out")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#msg-{sent.pk}")
    assert sent.text == "Ist unterwegs!" and sent.sender == agent
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "Ist unterwegs!" in html


@pytest.mark.django_db
def test_htmx_reply_answers_with_a_fresh_composer_and_the_message(client, agent, number, fake_client):
    conversation = chat(number)
    client.force_login(agent)
    response = client.post(
        f"/inbox/c/{conversation.pk}/send/",
        {"text": "Gleich da", "client_id": str(uuid.uuid4())},
        headers={"HX-Request": "true", "HX-Target": f"thread-{conversation.pk}-composer"},
    )
    html = response.content.decode()
    sent = Message.objects.get(direction="out")
    assert html.lstrip().startswith(f'<footer id="thread-{conversation.pk}-composer"')
    assert f'hx-swap-oob="beforeend:#thread-{conversation.pk}-messages"' in html
    assert f'id="msg-{sent.pk}"' in html and "Gleich da" in html


@pytest.mark.django_db
def test_a_canned_shortcut_expands(client, agent, number, fake_client):
    services.canned_response_save(shortcut="paket", text="Ihr Paket ist unterwegs.")
    conversation = chat(number)
    client.force_login(agent)
    client.post(f"/inbox/c/{conversation.pk}/send/", {"text": "/paket Danke!", "client_id": str(uuid.uuid4())})
    assert Message.objects.get(direction="out").text == "Ihr Paket ist unterwegs. Danke!"


@pytest.mark.django_db
def test_a_refusal_keeps_the_text_and_says_why(client, agent, number, fake_client):
    # The page still showed the text box, but the window closed before the agent pressed Send.
    conversation = chat(number, hours_ago=24.1)
    client.force_login(agent)
    for headers in ({}, {"HX-Request": "true", "HX-Target": f"thread-{conversation.pk}-composer"}):
        response = client.post(
            f"/inbox/c/{conversation.pk}/send/",
            {"text": "Noch eine Frage zu Ihrer Bestellung", "client_id": str(uuid.uuid4())},
            headers=headers,
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Noch eine Frage zu Ihrer Bestellung</textarea>" in html
        assert "24-hour window closed at" in html
        assert 'class="errorlist"' in html
    assert not Message.objects.filter(direction="out").exists()
    assert fake_client.sent == []


@pytest.mark.django_db
def test_an_empty_reply_says_what_to_fix(client, agent, number):
    conversation = chat(number)
    client.force_login(agent)
    html = client.post(f"/inbox/c/{conversation.pk}/send/", {"text": "  "}).content.decode()
    assert "Write a message or attach a file." in html


@pytest.mark.django_db
def test_a_private_note_is_never_sent(client, agent, number, fake_client, django_capture_on_commit_callbacks):
    conversation = chat(number, hours_ago=30)  # notes work outside the window too
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/inbox/c/{conversation.pk}/send/", {"text": "Kundin ruft morgen an", "note": "on"})
    note = Message.objects.get(direction="out")
    assert note.status == "note" and note.text == "Kundin ruft morgen an"
    assert fake_client.sent == []


@pytest.mark.django_db
def test_reply_to_quotes_the_message(client, agent, number, fake_client, django_capture_on_commit_callbacks):
    conversation = chat(number, text="Welche Farbe?")
    question = conversation.messages.get()
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/?reply_to={question.pk}").content.decode()
    assert f'name="reply_to" value="{question.pk}"' in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/inbox/c/{conversation.pk}/send/",
            {"text": "Blau", "reply_to": question.pk, "client_id": str(uuid.uuid4())},
        )
    reply = Message.objects.get(direction="out")
    assert reply.reply_to == question
    assert fake_client.sent[0][1]["context"] == {"message_id": question.wamid}


@pytest.mark.django_db
def test_react_assign_status_and_labels(client, agent, teammate, number, fake_client):
    conversation = chat(number)
    question = conversation.messages.get()
    client.force_login(agent)
    base = f"/inbox/c/{conversation.pk}"
    client.post(f"{base}/m/{question.pk}/react/", {"emoji": "👍"})
    assert Message.objects.get(type="reaction").reply_to == question
    client.post(f"{base}/assign/", {"assignee": "me"})
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    htmx = {"HX-Request": "true", "HX-Target": f"thread-{conversation.pk}-header"}
    html = client.post(f"{base}/assign/", {"assignee": teammate.pk}, headers=htmx).content.decode()
    assert html.lstrip().startswith(f'<header id="thread-{conversation.pk}-header"')
    conversation.refresh_from_db()
    assert conversation.assignee == teammate
    client.post(f"{base}/status/", {"status": "snoozed", "snooze": "tomorrow"})
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"
    assert timezone.localtime(conversation.snoozed_until).hour == 9
    client.post(f"{base}/status/", {"status": "resolved"})
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    client.post(f"{base}/labels/", {"name": "Rückruf"})
    assert list(conversation.labels.values_list("name", flat=True)) == ["Rückruf"]
    client.post(f"{base}/labels/remove/", {"name": "Rückruf"})
    assert not conversation.labels.exists()


@pytest.mark.django_db
def test_the_thread_is_paged_by_keyset(client, agent, number):
    conversation = chat(number, text="message 0")
    for i in range(1, 60):
        Message.objects.create(
            conversation=conversation, direction="in", text=f"message {i}", status="received", wamid=f"w{i}"
        )
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "message 59" in html and "message 10<" in html and "message 9<" not in html
    older = re.search(r'id="thread-older".*?href="([^"]+)"', html, re.S).group(1)
    rest = client.get(older, headers={"HX-Request": "true", "HX-Target": "thread-older"}).content.decode()
    assert "message 0<" in rest and "message 9<" in rest and "message 10<" not in rest


@pytest.mark.django_db
def test_the_pages_speak_german(client, agent, number):
    conversation = chat(number, hours_ago=30)
    client.force_login(agent)
    client.cookies["django_language"] = "de"
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "<h1>Posteingang</h1>" in html
    assert "geschlossen; nur freigegebene Vorlagen" in html


@pytest.mark.django_db
def test_the_teammates_read_with_the_thread_are_the_ones_the_orm_finds(agent, teammate, outsider, admin_user, finance):
    """On PostgreSQL the teammates to assign come with the thread (inbox.queries, one query); they
    are queries.teammates_for's, over every kind of user: the number's agents, an agent of another
    number, an agent of every number, admins, a superuser without a role, finance people (of every
    number too), and people who may no longer sign in."""
    from django.contrib.auth import get_user_model

    from inbox import queries
    from inbox.services import user_create_or_update

    conversation = chat(agent.business_numbers.get(), text="Hallo")
    user_create_or_update(username="all-numbers", role="agent", number_ids=[])
    user_create_or_update(username="finance-everywhere", role="finance")
    gone = user_create_or_update(username="gone", role="admin")
    gone.is_active = False
    gone.save()
    get_user_model().objects.create_superuser("root")
    teammate.first_name, teammate.last_name = "Bob", "Baker"
    teammate.save()
    read = queries.conversation_for_agent(admin_user, conversation.pk)
    assert read.teammates == [
        queries.Teammate(u.pk, u.username, u.first_name, u.last_name) for u in queries.teammates_for(conversation)
    ]
    assert [mate.username for mate in read.teammates] == ["ada", "alice", "all-numbers", "bob", "root"]
    assert read.teammates[3].get_full_name() == "Bob Baker"
