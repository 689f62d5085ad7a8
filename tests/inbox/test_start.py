"""Starting a conversation with a customer who has none: it opens on the template picker."""

from __future__ import annotations

import pytest

from conversations.models import Contact, Conversation


@pytest.mark.django_db
def test_a_number_opens_a_new_thread_on_the_template_picker(client, agent, number):
    client.force_login(agent)
    assert client.get("/inbox/new/").status_code == 200
    response = client.post("/inbox/new/", {"number": number.pk, "phone": "+49 151 5550 1234"})
    conversation = Conversation.objects.get()
    assert response["Location"] == f"/inbox/c/{conversation.pk}/"
    assert conversation.contact.wa_id == "4915155501234" and conversation.contact.market == "DE"
    html = client.get(response["Location"]).content.decode()
    assert "has not written to this number yet" in html
    assert 'class="template-picker' in html
    # The same number again finds the same thread.
    client.post("/inbox/new/", {"number": number.pk, "phone": "004915155501234".lstrip("0")})
    assert Conversation.objects.count() == 1 and Contact.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_number_or_a_number_the_agent_does_not_work_is_refused(client, agent, number, other_number):
    client.force_login(agent)
    html = client.post("/inbox/new/", {"number": number.pk, "phone": "12"}).content.decode()
    assert "not a phone number" in html
    response = client.post("/inbox/new/", {"number": other_number.pk, "phone": "+447700900123"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Conversation.objects.exists()
