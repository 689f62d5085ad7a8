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


@pytest.mark.django_db
def test_the_template_picker_opened_without_htmx_is_a_whole_page(client, agent, number, order_update):
    client.force_login(agent)
    client.post("/inbox/new/", {"number": number.pk, "phone": "+49 151 5550 1234"})
    conversation = Conversation.objects.get()
    url = f"/inbox/c/{conversation.pk}/templates/"
    page = client.get(url).content.decode()
    assert page.startswith("<!doctype html>") and "<title>" in page and 'class="template-picker' in page
    chosen = client.get(f"{url}?template={order_update.pk}").content.decode()
    assert chosen.startswith("<!doctype html>") and "order_update" in chosen
    assert "<div hx-disable>" in page  # its links and form work as plain HTML there
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'class="template-picker' in fragment
    client.cookies["django_language"] = "de"
    refused = client.post(f"{url}send/", {"template": ""})
    assert refused.status_code == 422 and "Wählen Sie eine der freigegebenen Vorlagen." in refused.content.decode()
