"""The customer pane's history: who did what to this thread, newest first, in the user's words
(language) and time zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from conversations import services
from tests.inbox.test_contact_pane import write


def history(client, conversation) -> str:
    pane = client.get(f"/inbox/c/{conversation.pk}/contact/").content.decode()
    return pane.split('class="contact-others contact-history"')[1].split("</ul>")[0]


@pytest.mark.django_db
def test_the_pane_says_who_did_what_newest_first(client, agent, teammate, admin_user, number):
    teammate.first_name, teammate.last_name = "Ben", "Berger"
    teammate.save()
    conversation = write(number, "Hallo")
    services.conversation_assign(conversation=conversation, assignee=teammate, by=admin_user)
    services.conversation_label_add(conversation=conversation, name="refund", by=teammate)
    services.conversation_status_set(conversation=conversation, status="resolved", by=teammate)
    write(number, "Noch eine Frage")  # the customer reopens it
    client.force_login(agent)
    html = history(client, conversation)
    sentences = [
        "Reopened automatically when the customer wrote",
        "Ben Berger resolved this",
        "Ben Berger added the label refund",
        "ada assigned this to Ben Berger",  # no full name: the username, as notes show it
    ]
    assert [html.index(s) for s in sentences] == sorted(html.index(s) for s in sentences)


@pytest.mark.django_db
def test_a_snooze_shows_its_time_in_the_users_time_zone_and_language(client, agent, number):
    agent.profile.time_zone = "Asia/Tokyo"
    agent.profile.save()
    conversation = write(number, "Hallo")
    now = timezone.now()
    until = (now + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)  # 09:00 in Tokyo
    services.conversation_status_set(conversation=conversation, status="snoozed", snooze_until=until, by=agent, now=now)
    client.force_login(agent)
    with translation.override("de"):
        client.cookies["django_language"] = "de"
        html = history(client, conversation)
    assert f"alice hat das bis {until:%d.%m.%Y} 09:00 zurückgestellt" in html


@pytest.mark.django_db
def test_a_deleted_teammate_stays_in_the_history_as_a_former_teammate(client, agent, teammate, number):
    conversation = write(number, "Hallo")
    services.conversation_assign(conversation=conversation, assignee=agent, by=teammate)
    teammate.delete()
    client.force_login(agent)
    assert "A former teammate assigned this to alice" in history(client, conversation)


@pytest.mark.django_db
def test_the_pane_shows_the_latest_ten(client, agent, number):
    conversation = write(number, "Hallo")
    for i in range(12):
        services.conversation_label_add(conversation=conversation, name=f"label-{i:02d}", by=agent)
    client.force_login(agent)
    html = history(client, conversation)
    assert html.count("<li>") == 10 and "label-11" in html and "label-01" not in html


@pytest.mark.django_db
def test_a_thread_nobody_changed_says_so(client, agent, number):
    conversation = write(number, "Hallo", wa_id="4915100000309")
    client.force_login(agent)
    assert "No changes yet." in history(client, conversation)


@pytest.mark.django_db
def test_a_header_action_brings_the_panes_labels_and_history_along(client, agent, number):
    """The pane beside the thread is not drawn again: its labels and history come out of band."""
    conversation = write(number, "Hallo")
    client.force_login(agent)
    url = f"/inbox/c/{conversation.pk}/labels/"
    html = client.post(url, {"name": "refund"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith(f'<header id="thread-{conversation.pk}-header"')  # the swap's target
    labels = html.split(f'<p id="contact-labels-{conversation.pk}" hx-swap-oob="true">')[1].split("</p>")[0]
    assert "refund" in labels
    history_part = html.split(f'<ul id="contact-history-{conversation.pk}"')[1].split("</ul>")[0]
    assert 'hx-swap-oob="true"' in history_part and "alice added the label refund" in history_part
    # Without htmx: the thread page, as before.
    assert client.post(url, {"name": "vip"}).status_code == 302
