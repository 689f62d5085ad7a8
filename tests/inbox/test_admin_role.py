"""The admin role manages numbers, users and tokens in /admin/, without being a superuser."""

from __future__ import annotations

import pytest

from conversations.models import BusinessNumber


@pytest.mark.parametrize(
    "path",
    [
        "/admin/auth/user/",
        "/admin/conversations/businessnumber/",
        "/admin/conversations/businessnumber/add/",
        "/admin/conversations/cannedresponse/",
        "/admin/inbox/apitoken/",
        "/admin/webhooks/webhookevent/",
    ],
)
def test_the_admin_role_opens_its_admin_pages(client, admin_user, path):
    assert not admin_user.is_superuser
    client.force_login(admin_user)
    assert client.get(path).status_code == 200


def test_the_admin_role_adds_a_business_number(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/conversations/businessnumber/add/",
        {"phone_number_id": "123456789", "display_phone_number": "4930999", "waba_id": "42", "name": "Sales"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert BusinessNumber.objects.filter(phone_number_id="123456789", name="Sales").exists()


def test_the_admin_role_cannot_make_anyone_superuser(client, admin_user, agent):
    client.force_login(admin_user)
    page = client.get(f"/admin/auth/user/{agent.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    assert 'name="groups"' in page  # roles are still theirs to give


@pytest.mark.parametrize("persona", ["agent", "finance"])
def test_other_roles_do_not_get_into_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/conversations/businessnumber/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
