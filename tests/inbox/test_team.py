"""The admins' team page: roles and numbers, deactivation, API tokens shown once, number states."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from inbox.models import ApiToken
from inbox.services import api_token_authenticate, user_create_or_update
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_only_admins_open_the_team_page(client, agent, finance, admin_user):
    for person, status in ((agent, 403), (finance, 403), (admin_user, 200)):
        client.force_login(person)
        assert client.get("/team/").status_code == status


@pytest.mark.django_db
def test_an_admin_limits_an_agent_to_one_number_and_the_page_shows_it(client, admin_user, number, other_number):
    all_numbers = user_create_or_update(username="carla", role="agent", password=PASSWORD)
    client.force_login(admin_user)
    html = client.get("/team/").content.decode()
    assert "carla" in html and "All numbers" in html
    response = client.post(
        "/team/users/", {"username": "carla", "role": "agent", "numbers": [other_number.phone_number_id]}
    )
    assert response.status_code == 302
    all_numbers.refresh_from_db()
    assert list(all_numbers.business_numbers.all()) == [other_number]
    assert not all_numbers.profile.all_numbers
    assert all_numbers.check_password(PASSWORD)  # an empty password field keeps it
    row = client.get("/team/").content.decode().split('data-username="carla"')[1].split("</tr>")[0]
    assert "Support UK" in row and "Support DE" not in row


@pytest.mark.django_db
def test_deactivate_and_reactivate(client, admin_user, agent):
    client.force_login(admin_user)
    client.post(f"/team/users/{agent.pk}/active/", {"active": "0"})
    agent.refresh_from_db()
    assert not agent.is_active
    client.post(f"/team/users/{agent.pk}/active/", {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active
    client.post(f"/team/users/{admin_user.pk}/active/", {"active": "0"})
    admin_user.refresh_from_db()
    assert admin_user.is_active  # not yourself


@pytest.mark.django_db
def test_a_token_is_shown_once_and_can_be_revoked(client, admin_user, agent):
    client.force_login(admin_user)
    assert "No tokens yet." in client.get("/team/").content.decode()
    response = client.post("/team/tokens/", {"user": agent.pk, "name": "ERP"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=agent)
    raw = html.split('id="new-token" value="')[1].split('"')[0]
    assert raw.startswith(token.key_prefix) and response["Cache-Control"] == "no-store"
    assert api_token_authenticate(raw=raw, now=timezone.now()) == agent
    assert raw not in client.get("/team/").content.decode()  # never again
    client.post(f"/team/tokens/{token.pk}/revoke/")
    assert api_token_authenticate(raw=raw, now=timezone.now()) is None
    assert "revoked" in client.get("/team/").content.decode()


@pytest.mark.django_db
def test_numbers_show_whether_meta_stopped_them(client, admin_user, number, other_number):
    other_number.stopped_at = timezone.now()
    other_number.stopped_reason = "The WhatsApp business account is locked."
    other_number.save()
    client.force_login(admin_user)
    html = client.get("/team/").content.decode()
    assert "stopped by Meta since" in html and "account is locked" in html
    assert html.count('<span class="badge open">sending</span>') == 1


def _row(html: str, username: str) -> str:
    return html.split(f'data-username="{username}"')[1].split("</tr>")[0]


@pytest.mark.django_db
def test_an_admin_allows_an_agent_campaigns_and_withdraws_them(client, admin_user, agent, number, monkeypatch):
    from conversations import events
    from core.roles import has_capability

    told = []
    monkeypatch.setattr(events, "user_changed", told.append)
    client.force_login(admin_user)
    form = {"username": agent.username, "role": "agent", "numbers": [number.phone_number_id]}
    assert 'data-grant="run_campaigns"' not in _row(client.get("/team/").content.decode(), agent.username)

    with_grant = {**form, "campaigns": "on"}
    assert client.post("/team/users/", with_grant).status_code == 302
    agent = type(agent).objects.get(pk=agent.pk)
    assert has_capability(agent, "run_campaigns") and agent.user_permissions.filter(codename="run_campaigns").exists()
    assert agent.pk in told  # their open sockets read their access again
    html = client.get("/team/").content.decode()
    assert 'data-grant="run_campaigns"' in _row(html, agent.username)
    editing = client.get(f"/team/?edit={agent.pk}").content.decode()
    assert 'name="campaigns"' in editing and "May run campaigns" in editing
    assert re.search(r'<input type="checkbox" name="campaigns"[^>]* checked>', editing)

    told.clear()
    assert client.post("/team/users/", form).status_code == 302  # the box left empty
    agent = type(agent).objects.get(pk=agent.pk)
    assert not has_capability(agent, "run_campaigns") and not agent.user_permissions.exists()
    assert agent.pk in told
    assert 'data-grant="run_campaigns"' not in _row(client.get("/team/").content.decode(), agent.username)


@pytest.mark.django_db
def test_the_grant_goes_with_another_role_and_finance_cannot_have_it(client, admin_user, agent, number):
    from core.roles import has_capability

    client.force_login(admin_user)
    client.post("/team/users/", {"username": agent.username, "role": "agent", "campaigns": "on"})
    client.post("/team/users/", {"username": agent.username, "role": "finance", "campaigns": "on"})
    agent = type(agent).objects.get(pk=agent.pk)
    assert not has_capability(agent, "run_campaigns") and not agent.user_permissions.exists()
    # Back to agent: the grant does not come back by itself.
    client.post("/team/users/", {"username": agent.username, "role": "agent"})
    assert not has_capability(type(agent).objects.get(pk=agent.pk), "run_campaigns")
    # The `add_user` path (no word about campaigns) keeps what an agent had.
    client.post("/team/users/", {"username": agent.username, "role": "agent", "campaigns": "on"})
    user_create_or_update(username=agent.username, role="agent", number_ids=[number.phone_number_id])
    assert has_capability(type(agent).objects.get(pk=agent.pk), "run_campaigns")


@pytest.mark.django_db
def test_numbers_show_metas_messaging_limit_and_quality_and_ask_meta_again(
    client, admin_user, number, other_number, monkeypatch
):
    from conversations.services_numbers import number_quality_apply

    now = timezone.now()
    number_quality_apply(waba_id=number.waba_id, display_phone_number=number.display_phone_number, at=now,
                         limit="TIER_2K", quality_rating="GREEN")  # fmt: skip
    number_quality_apply(waba_id=other_number.waba_id, display_phone_number=other_number.display_phone_number,
                         at=now, limit="TIER_250", event="FLAGGED")  # fmt: skip
    client.force_login(admin_user)
    html = client.get("/team/").content.decode()
    assert "Messaging limit" in html and "2,000 customers in 24 h" in html and "250 customers in 24 h" in html
    assert 'class="quality quality-green">High' in html
    assert "flagged by Meta: the limit may drop unless quality improves" in html
    client.cookies["django_language"] = "de"
    german = client.get("/team/").content.decode()
    assert "2.000 Kunden in 24 Std." in german and ">Hoch</span>" in german and "Bei Meta nachfragen" in german

    class Meta:
        def phone_number_info(self, *, phone_number_id):
            assert phone_number_id == other_number.phone_number_id
            return {"quality_rating": "RED", "messaging_limit_tier": "TIER_1K"}

    monkeypatch.setattr("whatsapp.client.get_client", lambda: Meta())
    response = client.post(f"/team/numbers/{other_number.pk}/refresh/")
    assert response.status_code == 302 and response["Location"].startswith("/team/")
    other_number.refresh_from_db()
    assert (other_number.quality_rating, other_number.messaging_limit) == ("RED", "TIER_1K")
    assert other_number.quality_event == ""  # what Meta shows now replaces its earlier flag


@pytest.mark.django_db
def test_the_team_page_writes_numbers_as_people_do(client, admin_user):
    from conversations.services_numbers import business_number_add

    # Meta's webhooks and the add_number command may store the bare digits.
    business_number_add(
        phone_number_id="106540352242923", display_phone_number="4930 1234568", waba_id="1", name="Berlin"
    )
    client.force_login(admin_user)
    html = client.get("/team/").content.decode()
    assert "<td>+49 30 1234568</td>" in html  # the numbers table
    assert "Berlin · +49 30 1234568" in html  # the numbers to tick for a person
    assert "+4930 1234568" not in html and "(+" not in html
