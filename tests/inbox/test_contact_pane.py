"""The customer pane: facts, the other threads the agent may see, notes shared across threads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import ContactNote
from tests.conversations.conftest import inbound, profile


def write(number, text, *, wa_id="4915100000301", name="Petra"):
    return services.inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now(), wa_id=wa_id, text=text),
        profile=profile(wa_id=wa_id, name=name),
    ).conversation


@pytest.mark.django_db
def test_the_pane_shows_the_customer_and_only_the_threads_agents_see(client, agent, admin_user, number, other_number):
    here = write(number, "Hallo")
    there = write(other_number, "Hello")  # the same customer writing to the UK number
    services.contact_opt_out(contact=here.contact, source="button", at=timezone.now())
    services.conversation_label_add(conversation=there, name="vip", by=admin_user)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{here.pk}/").content.decode()
    pane = html.split('id="contact-pane"')[1].split("</aside>")[0]
    assert "Petra" in pane and "+49 1510 0000301" in pane and "DE" in pane  # written as people do
    assert "customer tapped a stop button" in pane
    assert f"/inbox/c/{there.pk}/" not in pane  # alice works only the DE number
    assert "vip" not in pane
    client.force_login(admin_user)
    pane = client.get(f"/inbox/c/{here.pk}/contact/").content.decode()
    assert f"/inbox/c/{there.pk}/" in pane and "vip" in pane


@pytest.mark.django_db
def test_the_language_is_the_last_template_sent_in_the_threads_the_reader_sees(
    client, agent, admin_user, number, other_number
):
    from conversations.models import Message

    here = write(number, "Hallo")
    there = write(other_number, "Hello")
    sent = {"direction": "out", "status": "sent", "sender": admin_user, "text": "…"}
    Message.objects.create(conversation=here, template_name="order_update", template_language="de", **sent)
    Message.objects.create(conversation=there, template_name="order_update", template_language="en_GB", **sent)
    services.conversation_status_set(conversation=there, status="pending", by=admin_user)

    def facts(user):
        client.force_login(user)
        html = client.get(f"/inbox/c/{here.pk}/contact/").content.decode()
        return html.split("<dt>Language</dt><dd>")[1].split(" ")[0], html.split('<ul class="contact-others">')[-1]

    language, others = facts(admin_user)  # sees both threads: the later template, in the UK thread
    assert language == "en_GB"
    assert f'/inbox/c/{there.pk}/">' in others and '<span class="badge status-pending">Pending</span>' in others
    language, others = facts(agent)  # sees only the German thread
    assert language == "de" and "None with the numbers you work." in others


@pytest.mark.django_db
@pytest.mark.parametrize("other_thread", [False, True])
def test_the_panes_labels_are_the_customers_in_name_order(client, admin_user, number, other_number, other_thread):
    """With one thread the pane's labels are that thread's (read with it); with more, all of them."""
    here = write(number, "Hallo")
    for name in ("vip", "Billing"):
        services.conversation_label_add(conversation=here, name=name, by=admin_user)
    if other_thread:
        services.conversation_label_add(conversation=write(other_number, "Hi"), name="refund", by=admin_user)
    client.force_login(admin_user)
    html = client.get(f"/inbox/c/{here.pk}/").content.decode()
    labels = html.split(f'<p id="contact-labels-{here.pk}">')[1].split("</p>")[0]
    shown = [chip.split("<")[0] for chip in labels.split('<span class="label-chip">')[1:]]
    assert shown == (["Billing", "refund", "vip"] if other_thread else ["Billing", "vip"])


@pytest.mark.django_db
def test_a_note_about_the_customer_shows_in_every_thread_with_them(client, admin_user, number, other_number):
    here = write(number, "Hallo")
    there = write(other_number, "Hello")
    client.force_login(admin_user)
    response = client.post(f"/inbox/c/{here.pk}/contact/notes/", {"text": "Prefers e-mail"}, HTTP_HX_REQUEST="true")
    assert "Prefers e-mail" in response.content.decode()
    assert "Prefers e-mail" in client.get(f"/inbox/c/{there.pk}/contact/").content.decode()
    client.post(f"/inbox/c/{here.pk}/contact/notes/", {"text": "   "})
    assert ContactNote.objects.count() == 1


@pytest.mark.django_db
def test_notes_name_their_author_newest_first_and_outlive_the_account(client, admin_user, agent, teammate, number):
    """The pane's notes are read by hand (inbox/customer_pane.py): who wrote them as the pages
    name people (full name, else username, "—" once the account is gone), newest first."""
    here = write(number, "Hallo")
    teammate.first_name, teammate.last_name = "Bob", "Berg"
    teammate.save()
    for author, text in ((agent, "Erste Notiz"), (teammate, "Zweite Notiz"), (admin_user, "Dritte Notiz")):
        ContactNote.objects.create(contact=here.contact, author=author, text=text)
    admin_user_pk = admin_user.pk
    admin_user.delete()
    client.force_login(agent)
    html = client.get(f"/inbox/c/{here.pk}/contact/").content.decode()
    notes = html.split('<ul class="contact-notes">')[1].split("</ul>")[0]
    shown = [(p.split("</p>")[0], who.split(" · ")[0]) for p, who in (
        item.split('<p>')[1].split('<span class="muted small">') for item in notes.split("<li>")[1:]
    )]  # fmt: skip
    assert shown == [("Dritte Notiz", "—"), ("Zweite Notiz", "Bob Berg"), ("Erste Notiz", "alice")]
    assert not ContactNote.objects.filter(author_id=admin_user_pk).exists()


@pytest.mark.django_db
def test_a_name_set_by_a_deleted_account_still_shows_the_pane(client, agent, teammate, number):
    here = write(number, "Hallo")
    here.contact.name, here.contact.name_set_by, here.contact.name_set_at = "Petra K.", teammate, timezone.now()
    here.contact.save()
    client.force_login(agent)
    assert "Name set by bob, " in client.get(f"/inbox/c/{here.pk}/contact/").content.decode()
    teammate.delete()
    response = client.get(f"/inbox/c/{here.pk}/contact/")
    assert response.status_code == 200 and "Name set by —, " in response.content.decode()


@pytest.mark.django_db
def test_opening_a_thread_with_htmx_swaps_the_pane_too(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    html = client.get(
        f"/inbox/c/{conversation.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="thread-pane"
    ).content.decode()
    assert 'id="contact-pane" class="pane contact-pane" aria-labelledby="contact-pane-title" hx-swap-oob="true"' in html


# --- the agent's name for the customer ----------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_names_the_customer_and_the_profile_name_stays_beside_it(agent, number):
    from inbox.services import contact_name_set

    contact = write(number, "Hallo", name="Jana 🌸").contact
    now = timezone.now()
    contact_name_set(contact=contact, name="  Jana \n Schmidt ", by=agent, now=now)
    contact.refresh_from_db()
    assert (contact.name, contact.profile_name, str(contact)) == ("Jana Schmidt", "Jana 🌸", "Jana Schmidt")
    assert (contact.name_set_by, contact.name_set_at) == (agent, now)
    contact_name_set(contact=contact, name="", by=agent, now=now)  # back to the WhatsApp name
    contact.refresh_from_db()
    assert (contact.name, contact.name_set_by, str(contact)) == ("", None, "Jana 🌸")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "reason"), [("x" * 101, "Keep the name to 100 characters"), ("Jana\x00", "cannot be shown")]
)
def test_a_name_too_long_or_with_control_characters_is_refused(agent, number, typed, reason):
    from conversations.exceptions import ConversationError
    from inbox.services import contact_name_set

    contact = write(number, "Hallo").contact
    with pytest.raises(ConversationError, match=reason):
        contact_name_set(contact=contact, name=typed, by=agent, now=timezone.now())
    contact.refresh_from_db()
    assert contact.name == ""


@pytest.mark.django_db
def test_saving_the_name_announces_every_thread_with_the_customer(
    agent, number, other_number, django_capture_on_commit_callbacks, monkeypatch
):
    from conversations import events
    from inbox.services import contact_name_set

    here = write(number, "Hallo")
    there = write(other_number, "Hello")
    announced = []
    monkeypatch.setattr(events, "conversation_changed", lambda conversation, **kw: announced.append(conversation.pk))
    with django_capture_on_commit_callbacks(execute=True):
        contact_name_set(contact=here.contact, name="Petra Meyer", by=agent, now=timezone.now())
        contact_name_set(contact=here.contact, name="Petra Meyer", by=agent, now=timezone.now())  # unchanged
    assert sorted(announced) == sorted([here.pk, there.pk])


@pytest.mark.django_db
def test_the_name_form_saves_and_answers_htmx_with_the_pane_header_and_row(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    response = client.post(
        f"/inbox/c/{conversation.pk}/contact/name/",
        {"name": "Petra Meyer"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contact-pane",
    )
    html = response.content.decode()
    assert response.status_code == 200
    pane = html.split('id="contact-pane"')[1].split("</aside>")[0]
    assert "<strong>Petra Meyer</strong>" in pane
    assert "WhatsApp profile name: Petra" in pane and "Name set by alice" in pane
    header = html.split(f'id="thread-{conversation.pk}-header"')[1].split("</header>")[0]
    assert 'hx-swap-oob="true"' in header and "<h2>Petra Meyer</h2>" in header
    row = html.split('hx-swap-oob="afterbegin:#conversation-rows"')[1]
    assert f'id="conv-row-{conversation.pk}"' in row and '<strong class="name">Petra Meyer</strong>' in row
    # The list page and the thread show it too.
    assert '<strong class="name">Petra Meyer</strong>' in client.get("/inbox/").content.decode()


@pytest.mark.django_db
def test_the_name_form_works_without_javascript(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    response = client.post(f"/inbox/c/{conversation.pk}/contact/name/", {"name": "Petra Meyer"})
    assert response.status_code == 302 and response["Location"] == f"/inbox/c/{conversation.pk}/contact/"
    page = client.get(response["Location"]).content.decode()
    assert "<strong>Petra Meyer</strong>" in page
    assert 'class="contact-name-edit"' in page and "<summary>Edit name</summary>" in page


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_name_keeps_what_was_typed_and_says_why_next_to_the_field(client, agent, number, htmx):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    typed = "P" * 120
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "contact-pane"} if htmx else {}
    response = client.post(f"/inbox/c/{conversation.pk}/contact/name/", {"name": typed}, **headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<details class="contact-name-edit" open>' in html
    assert f'value="{typed}"' in html and 'aria-invalid="true"' in html
    assert "Keep the name to 100 characters (this one has 120)." in html
    assert ("<html" in html) is not htmx
    conversation.contact.refresh_from_db()
    assert conversation.contact.name == ""


@pytest.mark.django_db
def test_only_agents_who_see_the_thread_may_name_its_customer(client, outsider, finance, number):
    conversation = write(number, "Hallo")
    client.force_login(outsider)  # works another number only
    assert client.post(f"/inbox/c/{conversation.pk}/contact/name/", {"name": "X"}).status_code == 404
    client.force_login(finance)
    assert client.post(f"/inbox/c/{conversation.pk}/contact/name/", {"name": "X"}).status_code == 403
    assert client.get(f"/inbox/c/{conversation.pk}/contact/name/").status_code in (403, 405)
    conversation.contact.refresh_from_db()
    assert conversation.contact.name == ""


@pytest.mark.django_db
def test_search_finds_the_customer_by_the_agents_name_and_by_the_profile_name(client, agent, number):
    from inbox.services import contact_name_set

    conversation = write(number, "Hallo", name="Jana 🌸")
    contact_name_set(contact=conversation.contact, name="Jana Schmidt-Wagner", by=agent, now=timezone.now())
    client.force_login(agent)
    for query in ("Schmidt-Wag", "jana 🌸"):
        html = client.get("/inbox/", {"q": query, "status": "all"}).content.decode()
        assert f'id="conv-row-{conversation.pk}"' in html, query


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["request", "processor"])
def test_a_webhook_after_the_edit_updates_the_profile_name_but_keeps_the_agents_name(
    client, agent, number, settings, path
):
    import json

    from conversations.models import Contact
    from inbox.services import contact_name_set
    from tests.webhooks import helpers as h
    from webhooks import processor

    conversation = write(number, "Hallo", wa_id="4915100000309", name="Petra")
    contact_name_set(contact=conversation.contact, name="Petra Meyer (Kundin seit 2019)", by=agent, now=timezone.now())
    body = h.envelope(
        h.messages_change(
            number,
            contacts=[{"profile": {"name": "P. 🌻"}, "wa_id": "4915100000309"}],
            messages=[h.text_message(h.fresh_wamid(), wa_id="4915100000309", body="Noch da?")],
        )
    )
    settings.WEBHOOKS_PROCESS_INLINE = path == "request"
    assert h.post(client, json.dumps(body).encode()).status_code == 200
    if path == "processor":
        assert processor.batch_process() == 1
    contact = Contact.objects.get(wa_id="4915100000309")
    assert contact.profile_name == "P. 🌻"
    assert contact.name == "Petra Meyer (Kundin seit 2019)"
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "<h2>Petra Meyer (Kundin seit 2019)</h2>" in html and "Noch da?" in html


@pytest.mark.django_db
def test_the_name_form_speaks_german(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/contact/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<summary>Name ändern</summary>" in html and "Name speichern" in html


@pytest.mark.django_db
def test_the_api_gives_the_name_agents_see(client, agent, number):
    from inbox.services import contact_name_set
    from tests.conversations.conftest import bearer

    conversation = write(number, "Hallo", name="Petra")
    contact_name_set(contact=conversation.contact, name="Petra Meyer", by=agent, now=timezone.now())
    items = client.get("/api/v1/conversations", **bearer(agent)).json()["items"]
    assert [item["contact"]["name"] for item in items] == ["Petra Meyer"]
    found = client.get("/api/v1/search", {"q": "Hallo"}, **bearer(agent)).json()
    assert {m["contact"]["name"] for m in found["messages"]} == {"Petra Meyer"}


@pytest.mark.django_db
def test_the_one_statement_and_the_orm_read_the_same_pane(agent, admin_user, teammate, number, other_number):
    """PostgreSQL reads the pane in one statement, SQLite (`make run`) through the ORM
    (inbox/customer_pane.py): other threads, labels, notes, language and the thread's history
    read the same, for a reader of every number and for one of a single number."""
    from conversations.models import ConversationActivity, Message
    from conversations.selectors import conversations_for_user
    from inbox import customer_pane

    here = write(number, "Hallo")
    there = write(other_number, "Hello")
    write(number, "Anderer Kunde", wa_id="4915100000399")
    services.conversation_label_add(conversation=here, name="vip", by=admin_user)
    services.conversation_label_add(conversation=there, name="Beschwerde", by=admin_user)
    sent = {"direction": "out", "status": "sent", "sender": admin_user, "text": "…", "template_name": "order_update"}
    Message.objects.create(conversation=here, template_language="de", **sent)
    Message.objects.create(conversation=there, template_language="en_GB", **sent)
    for author, text in ((agent, "Erste"), (teammate, "Zweite")):
        ContactNote.objects.create(contact=here.contact, author=author, text=text)
    # History of every shape: by the inbox itself, by an account deleted below, with a snooze time,
    # and more entries than the pane shows, several at one instant (the id breaks the tie).
    now = timezone.now()
    later = now + timedelta(hours=2)
    services.conversation_assign(conversation=here, assignee=teammate, by=admin_user, now=now)
    services.conversation_status_set(conversation=here, status="snoozed", snooze_until=later, by=teammate, now=now)
    ConversationActivity.objects.create(conversation=here, kind="reopened", at=now)
    for name in ("a", "b", "c", "d", "e", "f", "g", "h"):
        ConversationActivity.objects.create(conversation=here, kind="label_added", label=name, actor=agent, at=now)
    teammate.delete()
    for reader in (admin_user, agent):
        visible = conversations_for_user(reader).filter(contact_id=here.contact_id)
        by_statement = customer_pane._in_one_statement(visible, here)
        assert by_statement == customer_pane._by_the_orm(visible, here)
        assert [note.author and note.author.username for note in by_statement["contact_notes"]] == [None, "alice"]
    assert [label.name for label in by_statement["contact_labels"]] == ["vip"]  # the agent's: one number
    assert by_statement["contact_language"] == "de" and by_statement["other_conversations"] == []
    history = by_statement["thread_history"]
    assert [entry.label for entry in history[:8]] == list("hgfedcba") and len(history) == 10
    assert [entry.kind for entry in history[8:]] == ["reopened", "snoozed"]
    assert history[8].actor is None and history[9].actor is None and history[9].snooze_until == later


@pytest.mark.django_db
def test_the_pane_escapes_what_people_typed_and_keeps_note_lines(client, agent, number):
    """The pane is written in Python (inbox/customer_pane_html.py): every value escaped."""
    conversation = write(number, "Hallo", name="Petra <b>")
    ContactNote.objects.create(contact=conversation.contact, author=agent, text="erste Zeile\n<script>x</script>")
    services.conversation_label_add(conversation=conversation, name="a&b", by=agent)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/contact/").content.decode()
    assert "<script>x" not in html and "erste Zeile<br>&lt;script&gt;x&lt;/script&gt;" in html
    assert "<strong>Petra &lt;b&gt;</strong>" in html and '<span class="label-chip">a&amp;b</span>' in html


@pytest.mark.django_db
def test_a_customer_known_by_username_only_shows_it_instead_of_a_number(client, agent, number):
    from conversations.models import Contact, Conversation

    contact = Contact.objects.create(user_id="US.4711", username="petra_m")
    conversation = Conversation.objects.create(number=number, contact=contact)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/contact/").content.decode()
    assert "hidden by WhatsApp (username only)" in html and "<dd>@petra_m</dd>" in html


@pytest.mark.django_db
def test_after_a_header_action_only_the_panes_labels_and_history_swap(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    html = client.post(
        f"/inbox/c/{conversation.pk}/labels/", {"name": "vip"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert f'<p id="contact-labels-{conversation.pk}" hx-swap-oob="true"><span class="label-chip">vip</span>' in html
    assert (
        f'<ul id="contact-history-{conversation.pk}" class="contact-others contact-history" hx-swap-oob="true">' in html
    )
    assert 'id="contact-pane"' not in html
