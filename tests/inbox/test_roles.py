from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core.roles import ROLE_CAPABILITIES, ROLE_MODEL_PERMISSIONS, perm
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_the_migration_creates_each_role_with_its_permissions():
    for role, capabilities in ROLE_CAPABILITIES.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        expected = {f"inbox.{c}" for c in capabilities} | set(ROLE_MODEL_PERMISSIONS.get(role, []))
        assert granted == expected


@pytest.mark.parametrize(
    ("persona", "allowed", "forbidden"),
    [
        ("agent", ["work_inbox"], ["manage_templates", "view_billing", "manage_users", "run_campaigns"]),
        (
            "admin_user",
            ["work_inbox", "manage_templates", "manage_numbers", "manage_users", "view_billing", "run_campaigns"],
            [],
        ),
        ("finance", ["view_billing"], ["work_inbox", "manage_templates", "run_campaigns"]),
    ],
)
def test_each_role_has_exactly_its_capabilities(request, persona, allowed, forbidden):
    user = request.getfixturevalue(persona)
    for codename in allowed:
        assert user.has_perm(perm(codename)), codename
    for codename in forbidden:
        assert not user.has_perm(perm(codename)), codename


@pytest.mark.parametrize(
    ("persona", "landing"),
    [("agent", "/inbox/"), ("admin_user", "/templates/"), ("finance", "/billing/")],
)
def test_after_login_each_role_lands_on_its_page(client, request, persona, landing):
    user = request.getfixturevalue(persona)
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_stays_on_the_login_page_keeping_the_username(client, agent):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b'value="alice"' in response.content


@pytest.mark.parametrize("path", ["/inbox/", "/templates/", "/billing/", "/settings/"])
@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={path}")


@pytest.mark.parametrize(
    ("persona", "path"),
    [("agent", "/billing/"), ("agent", "/templates/"), ("finance", "/inbox/"), ("finance", "/templates/")],
)
def test_roles_cannot_open_other_roles_pages(client, request, persona, path):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(path).status_code == 403


def test_home_redirects_by_role(client, finance):
    client.force_login(finance)
    assert client.get("/")["Location"] == "/billing/"


def test_the_user_can_choose_a_time_zone(client, agent):
    client.force_login(agent)
    response = client.post("/settings/", {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    agent.profile.refresh_from_db()
    assert agent.profile.time_zone == "Europe/Berlin"
    response = client.post("/settings/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
