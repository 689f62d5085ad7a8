"""Guessing passwords stops after a few tries, the right one included (issue 7, item 10)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts(settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 20
    settings.LOGIN_THROTTLE_WINDOW = 600
    cache.clear()  # this helper's own Redis db (or locmem): counts from other tests must not leak in
    yield
    cache.clear()


def sign_in(client, username, password, *, url="/login/", address="127.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def test_after_five_wrong_passwords_the_right_one_is_refused_too(client, agent):
    for _ in range(5):
        assert sign_in(client, "alice", "guess").status_code == 200
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_username_is_throttled_from_any_address_in_any_spelling(client, agent):
    for number in range(5):
        sign_in(client, "alice", "guess", address=f"10.0.0.{number}")
    assert sign_in(client, " ALICE", PASSWORD, address="10.0.0.99").status_code == 429
    assert signed_in_as(client) is None


def test_an_address_guessing_many_usernames_is_throttled(client, agent, teammate):
    for number in range(20):
        sign_in(client, f"user{number}", "guess", address="10.9.9.9")
    assert sign_in(client, "bob", PASSWORD, address="10.9.9.9").status_code == 429
    assert signed_in_as(client) is None
    # Another address is not held up by that one.
    assert sign_in(client, "bob", PASSWORD, address="10.9.9.10").status_code == 302


def test_a_few_typos_then_the_right_password_signs_in_and_starts_the_count_again(client, agent):
    for _ in range(4):
        sign_in(client, "alice", "typo")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "alice", "typo")
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_the_admin_login_counts_and_refuses_the_same_way(client, admin_user):
    for _ in range(3):
        sign_in(client, "ada", "guess", url="/admin/login/")
    for _ in range(2):
        sign_in(client, "ada", "guess")
    response = sign_in(client, "ada", PASSWORD, url="/admin/login/")
    assert response.status_code == 200  # the admin's own form, with the refusal on it
    assert "Too many failed sign-ins" in response.content.decode()
    assert signed_in_as(client) is None
