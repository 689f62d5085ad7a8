"""The admin role manages numbers, users and tokens in /admin/, without being a superuser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conversations.models import BusinessNumber
from tests.conftest import PASSWORD


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


# --- a superuser is out of the admin role's reach (issue 7, item 2) -------------------------------

ROOT_PASSWORD = "root-password-unchanged"


@pytest.fixture
def root(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", ROOT_PASSWORD)


class _FormFields(HTMLParser):
    """What a browser would submit from the page's main form: inputs, checked boxes, selections."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value or "")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            else:
                self._add(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_of(page: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(page)
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


def test_the_admin_role_cannot_set_a_superusers_password(client, admin_user, root):
    client.force_login(admin_user)
    url = f"/admin/auth/user/{root.pk}/password/"
    assert client.get(url).status_code == 403
    takeover = {"password1": "taken-over-42!", "password2": "taken-over-42!", "usable_password": "true"}
    response = client.post(url, takeover)
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password(ROOT_PASSWORD)


def test_the_admin_role_cannot_rename_or_deactivate_a_superuser(client, superuser_client, admin_user, root):
    # The form as a superuser would submit it, then changed the way an attacker would.
    data = form_of(superuser_client.get(f"/admin/auth/user/{root.pk}/change/").content.decode())
    assert data["username"] == ["root"]
    data["username"] = ["mine-now"]
    data.pop("is_active", None)
    client.force_login(admin_user)
    assert client.post(f"/admin/auth/user/{root.pk}/change/", data).status_code == 403
    root.refresh_from_db()
    assert (root.username, root.is_active, root.is_superuser) == ("root", True, True)
    # They may still see the superuser, read-only: no form to submit.
    page = client.get(f"/admin/auth/user/{root.pk}/change/")
    assert page.status_code == 200
    assert 'name="username"' not in page.content.decode()


def test_the_admin_role_cannot_delete_a_superuser(client, admin_user, root):
    client.force_login(admin_user)
    assert client.get(f"/admin/auth/user/{root.pk}/delete/").status_code == 403
    assert client.post(f"/admin/auth/user/{root.pk}/delete/", {"post": "yes"}).status_code == 403
    root.refresh_from_db()


def test_the_admin_role_cannot_revoke_a_superusers_token(client, admin_user, root):
    from inbox.services import api_token_create

    token, _raw = api_token_create(user=root, name="ops")
    client.force_login(admin_user)
    url = f"/admin/inbox/apitoken/{token.pk}/change/"
    assert client.post(url, {"name": "gone", "revoked_at_0": "2026-01-01", "revoked_at_1": "00:00"}).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None and token.name == "ops"


def test_the_admin_role_manages_other_admins_agents_and_finance(client, admin_user, agent, finance):
    from inbox.services import user_create_or_update

    other_admin = user_create_or_update(username="adam", role="admin", password=PASSWORD)
    client.force_login(admin_user)
    for user in (other_admin, agent, finance):
        response = client.post(
            f"/admin/auth/user/{user.pk}/password/",
            {"password1": "a-new-pass-1234", "password2": "a-new-pass-1234", "usable_password": "true"},
        )
        assert response.status_code == 302, response.content[:2000]
        user.refresh_from_db()
        assert user.check_password("a-new-pass-1234")


@pytest.mark.parametrize("whom", ["agent", "admin_user"])
def test_a_posted_superuser_flag_is_ignored_for_the_admin_role(client, request, admin_user, whom):
    target = request.getfixturevalue(whom)
    client.force_login(admin_user)
    url = f"/admin/auth/user/{target.pk}/change/"
    data = form_of(client.get(url).content.decode())
    data["is_superuser"] = ["on"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:3000]
    target.refresh_from_db()
    assert not target.is_superuser


def test_a_superuser_still_manages_superusers(superuser_client, root):
    response = superuser_client.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "a-new-pass-1234", "password2": "a-new-pass-1234", "usable_password": "true"},
    )
    assert response.status_code == 302
    root.refresh_from_db()
    assert root.check_password("a-new-pass-1234")


@pytest.fixture
def superuser_client(root):
    from django.test import Client

    other = Client()
    other.force_login(root)
    return other


def test_admin_access_follows_the_role_not_a_posted_staff_flag(client, admin_user, agent, finance):
    from django.contrib.auth.models import Group

    client.force_login(admin_user)
    url = f"/admin/auth/user/{finance.pk}/change/"
    data = form_of(client.get(url).content.decode())
    data["is_staff"] = ["on"]
    assert client.post(url, data).status_code == 302
    finance.refresh_from_db()
    assert not finance.is_staff  # a finance user does not get into /admin/ by a flag

    url = f"/admin/auth/user/{agent.pk}/change/"
    data = form_of(client.get(url).content.decode())
    data["groups"] = [str(Group.objects.get(name="admin").pk)]
    assert client.post(url, data).status_code == 302
    agent.refresh_from_db()
    assert agent.is_staff and list(agent.groups.values_list("name", flat=True)) == ["admin"]


# The team page (/team/) manages people too: the same reach as /admin/ --------------------------


def test_the_team_page_cannot_re_password_or_demote_a_superuser(client, admin_user, root):
    client.force_login(admin_user)
    takeover = {"username": "root", "role": "admin", "password": "taken-over-42!"}
    assert client.post("/team/users/", takeover).status_code == 403
    root.refresh_from_db()
    assert root.check_password(ROOT_PASSWORD) and root.is_superuser and root.is_staff


def test_the_team_page_cannot_deactivate_a_superuser(client, admin_user, root):
    client.force_login(admin_user)
    assert client.post(f"/team/users/{root.pk}/active/", {"active": "0"}).status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_the_team_page_cannot_mint_or_revoke_a_superusers_token(client, admin_user, root):
    from inbox.models import ApiToken
    from inbox.services import api_token_create

    token, _raw = api_token_create(user=root, name="ops")
    client.force_login(admin_user)
    # A token acting as the superuser would be the superuser in the admin's hands.
    assert client.post("/team/tokens/", {"user": str(root.pk), "name": "mine"}).status_code in (400, 403)
    assert list(ApiToken.objects.filter(user=root).values_list("name", flat=True)) == ["ops"]
    assert client.post(f"/team/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_superuser_still_manages_superusers_on_the_team_page(superuser_client, root):
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create_superuser("root2", "root2@example.com", ROOT_PASSWORD)
    assert superuser_client.post(f"/team/users/{other.pk}/active/", {"active": "0"}).status_code == 302
    other.refresh_from_db()
    assert not other.is_active
