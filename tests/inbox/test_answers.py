"""Admins manage saved answers on a page of the app."""

from __future__ import annotations

import pytest

from conversations.models import CannedResponse


@pytest.mark.django_db
def test_admins_add_change_and_delete_saved_answers(client, admin_user):
    client.force_login(admin_user)
    assert client.post("/inbox/answers/", {"shortcut": "/Hours", "text": "9 to 17"}).status_code == 302
    assert CannedResponse.objects.get().shortcut == "hours"
    html = client.get("/inbox/answers/?edit=hours").content.decode()
    assert "9 to 17" in html and "Change /hours" in html
    client.post("/inbox/answers/", {"shortcut": "hours", "text": "8 to 18"})
    assert CannedResponse.objects.get().text == "8 to 18"
    response = client.post("/inbox/answers/", {"shortcut": "", "text": "x"})
    assert response.status_code == 400 and "needs a shortcut" in response.content.decode()
    client.post("/inbox/answers/delete/", {"shortcut": "hours"})
    assert not CannedResponse.objects.exists()


@pytest.mark.django_db
def test_agents_do_not_manage_saved_answers(client, agent):
    client.force_login(agent)
    assert client.get("/inbox/answers/").status_code == 403
    assert client.post("/inbox/answers/", {"shortcut": "x", "text": "y"}).status_code == 403
