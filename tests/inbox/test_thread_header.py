"""The thread's header, written in Python (inbox/thread_header.py): what it shows in each state."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation

from conversations import services
from inbox import queries
from inbox.presenters import thread_context
from tests.inbox.test_inbox_pages import chat

pytestmark = pytest.mark.django_db


def header(viewer, conversation, *, language="en", with_request=True, **extra) -> str:
    request = RequestFactory().get("/")
    request.user = viewer
    with translation.override(language):
        context = {**thread_context(viewer, queries.conversation_for_agent(viewer, conversation.pk)), **extra}
        return render_to_string("inbox/thread.html#header", context, request=request if with_request else None)


def options(html: str) -> list[str]:
    return re.findall(r"<option value=\"\d*\"( selected)?>([^<]*)</option>", html.split('name="snooze"')[0])


def test_the_assignee_is_selected_and_the_viewer_is_marked_me(agent, teammate, number):
    teammate.first_name, teammate.last_name = "Bob", "<Baker>"
    teammate.save()
    conversation = chat(number)
    services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)
    html = header(agent, conversation)
    assert options(html) == [("", "nobody"), ("", "alice (me)"), (" selected", "Bob &lt;Baker&gt;")]
    assert 'value="me"' in html  # "Assign to me": assigned to someone else
    services.conversation_assign(conversation=conversation, assignee=agent, by=agent)
    html = header(agent, conversation)
    assert options(html)[1] == (" selected", "alice (me)") and 'value="me"' not in html


def test_names_labels_and_errors_are_escaped_and_each_label_has_its_remove_form(agent, number):
    conversation = chat(number, name="Ana <b>Souza</b>")
    for name in ("vip & co", "<script>"):
        services.conversation_label_add(conversation=conversation, name=name, by=agent)
    html = header(agent, conversation, action_error="Nope <x>", oob="true")
    assert "<h2>Ana &lt;b&gt;Souza&lt;/b&gt;</h2>" in html and "<b>" not in html and "<script>" not in html
    assert html.count('class="inline"') == 2 and 'value="vip &amp; co"' in html
    assert '<p class="errorlist">Nope &lt;x&gt;</p>' in html
    assert f'id="thread-{conversation.pk}-header" class="thread-header" hx-swap-oob="true"' in html
    assert html.count('name="csrfmiddlewaretoken"') == 5  # assign, status, one per label (2), add


def test_each_status_offers_the_other_statuses(agent, number):
    conversation = chat(number)
    buttons = lambda: re.findall(r'name="status" value="(\w+)"', header(agent, conversation))  # noqa: E731
    assert buttons() == ["pending", "resolved", "snoozed"]
    services.conversation_status_set(conversation=conversation, status="pending", by=agent)
    assert buttons() == ["open", "resolved", "snoozed"]
    services.conversation_status_set(conversation=conversation, status="resolved", by=agent)
    assert buttons() == ["open", "snoozed"]


def test_snoozed_until_the_window_and_the_opt_out_in_german(agent, number):
    conversation = chat(number, hours_ago=2)
    until = timezone.now() + timedelta(hours=5)
    services.conversation_status_set(conversation=conversation, status="snoozed", snooze_until=until, by=agent)
    contact = conversation.contact
    contact.marketing_opted_out_at, contact.marketing_opt_out_source = timezone.now(), "keyword"
    contact.save()
    html = header(agent, conversation, language="de")
    assert "Zurückgestellt · bis " in html and "Freie Antworten bis " in html
    assert "Werbung abbestellt" in html and "Zuweisen" in html and 'placeholder="+ Label"' in html


def test_a_closed_window_says_when_it_closed(agent, number):
    html = header(agent, chat(number, hours_ago=30))
    assert "Closed at " in html and "Free replies" not in html


def test_a_live_update_has_no_viewer_and_no_token(agent, number):
    """Live updates render the header once for everyone: no "(me)", no CSRF input of anyone's."""
    conversation = chat(number)
    context = thread_context(None, queries.conversation_for_agent(agent, conversation.pk))
    html = render_to_string("inbox/thread.html#header", {**context, "oob": "true"})
    assert "(me)" not in html and "csrfmiddlewaretoken" not in html and 'value="me"' in html
