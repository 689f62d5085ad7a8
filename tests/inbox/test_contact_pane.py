"""The customer pane: facts, the other threads the agent may see, notes shared across threads."""

from __future__ import annotations

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
    assert "Petra" in pane and "+4915100000301" in pane and "DE" in pane
    assert "customer tapped a stop button" in pane
    assert f"/inbox/c/{there.pk}/" not in pane  # alice works only the DE number
    assert "vip" not in pane
    client.force_login(admin_user)
    pane = client.get(f"/inbox/c/{here.pk}/contact/").content.decode()
    assert f"/inbox/c/{there.pk}/" in pane and "vip" in pane


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
def test_opening_a_thread_with_htmx_swaps_the_pane_too(client, agent, number):
    conversation = write(number, "Hallo")
    client.force_login(agent)
    html = client.get(
        f"/inbox/c/{conversation.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="thread-pane"
    ).content.decode()
    assert 'id="contact-pane" class="pane contact-pane" aria-labelledby="contact-pane-title" hx-swap-oob="true"' in html
