"""The thread's composer, written in Python (inbox/thread_composer.py): what it offers in each state."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from conversations.models import Contact, Conversation, Message
from inbox import queries
from inbox.forms import ReplyForm
from inbox.presenters import thread_context
from tests.inbox.test_inbox_pages import chat

pytestmark = pytest.mark.django_db


def composer(agent, conversation, **kwargs) -> str:
    context = thread_context(agent, queries.conversation_for_agent(agent, conversation.pk), **kwargs)
    return render_to_string("inbox/thread.html#composer", context)


def test_inside_the_window_a_reply_form_that_quotes_what_it_answers(agent, number):
    conversation = chat(number, text="Wo ist <b>mein</b> Paket?" + " lang" * 30)
    asked = Message.objects.get(conversation=conversation)
    html = composer(agent, conversation, reply_to=asked, text="Gleich & sofort")
    assert 'data-window="open"' in html and f'name="reply_to" value="{asked.pk}"' in html
    assert "Wo ist &lt;b&gt;mein&lt;/b&gt; Paket? lang" in html and "…" in html  # cut at 100 characters
    assert ">Gleich &amp; sofort</textarea>" in html and 'name="client_id" value="' in html
    assert "Template…" in html and "window-closed-note" not in html


def test_a_refused_reply_keeps_its_text_and_says_why(agent, number):
    form = ReplyForm(data={"text": "", "note": "on"})
    assert not form.is_valid()
    html = composer(agent, chat(number), form=form)
    assert '<ul class="errorlist"><li>Write a message or attach a file.</li></ul>' in html
    assert 'name="note" checked' in html


def test_outside_the_window_the_reason_the_templates_and_a_note_only(agent, number, order_update):
    html = composer(agent, chat(number, hours_ago=30))
    assert 'data-window="closed"' in html and "window closed at" in html
    assert "order_update" in html and 'class="note-only"' in html and 'class="reply-form"' not in html


def test_a_customer_who_never_wrote_is_told_so(agent, number):
    conversation = Conversation.objects.create(number=number, contact=Contact.objects.create(wa_id="4915100000999"))
    html = composer(agent, conversation)
    assert "The customer has not written to this number yet." in html and "data-expires" not in html
