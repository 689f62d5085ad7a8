from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from conversations.models import BusinessNumber
from conversations.selectors import numbers_for_user
from inbox.models import ApiToken, hash_token

User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_add_number_creates_and_updates():
    run("add_number", "106540352242922", "+49 30 1234567", "--waba-id", "102290129340398", "--name", "Support DE")
    number = BusinessNumber.objects.get(phone_number_id="106540352242922")
    assert (number.display_phone_number, number.waba_id, number.name) == (
        "49301234567",
        "102290129340398",
        "Support DE",
    )
    run("add_number", "106540352242922", "+49 30 1234567", "--waba-id", "102290129340398", "--name", "Kundendienst")
    assert BusinessNumber.objects.get().name == "Kundendienst"


@pytest.mark.django_db
def test_add_number_rejects_a_non_numeric_id():
    with pytest.raises(CommandError, match="numeric"):
        run("add_number", "abc", "+49 30 1234567", "--waba-id", "1")


def test_add_user_with_numbers_limits_the_agent_to_them(number, other_number):
    run("add_user", "carol", "--role", "agent", "--password", "pw-123456789", "--numbers", number.phone_number_id)
    carol = User.objects.get(username="carol")
    assert carol.check_password("pw-123456789")
    assert list(numbers_for_user(carol)) == [number]


def test_add_user_without_numbers_works_all_numbers_even_later_ones(number):
    run("add_user", "dave", "--role", "agent")
    dave = User.objects.get(username="dave")
    assert not dave.has_usable_password()
    run("add_number", "555", "+44 20 7946 0000", "--waba-id", "1")
    assert numbers_for_user(dave).count() == 2


def test_add_user_with_an_unknown_number_fails(number):
    with pytest.raises(CommandError, match="999"):
        run("add_user", "erin", "--role", "agent", "--numbers", "999")
    assert not User.objects.filter(username="erin").exists()


@pytest.mark.django_db
def test_add_user_changes_the_role():
    run("add_user", "frank", "--role", "agent")
    run("add_user", "frank", "--role", "finance")
    assert [g.name for g in User.objects.get(username="frank").groups.all()] == ["finance"]


def test_create_api_token_prints_it_last_and_stores_only_a_hash(client, agent):
    raw = run("create_api_token", "alice").strip().splitlines()[-1]
    token = ApiToken.objects.get(user=agent)
    assert raw.startswith("wai_")
    assert token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.key_prefix)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "role": "agent"}


def test_api_without_or_with_a_wrong_token_is_401_in_the_error_shape(client, agent):
    for headers in ({}, {"Authorization": "Bearer wai_wrong"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_token_no_longer_works(client, agent):
    raw = run("create_api_token", "alice").strip().splitlines()[-1]
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.django_db
def test_create_api_token_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="nobody"):
        run("create_api_token", "nobody")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_users_can_sign_in(client):
    run("seed_demo")
    output = run("seed_demo")
    assert "agent / agent-demo-2026" in output
    assert User.objects.filter(username__in=["agent", "admin", "finance"]).count() == 3
    assert BusinessNumber.objects.count() == 2
    assert client.login(username="finance", password="finance-demo-2026")
    # One demo agent an admin allowed campaigns, of their one number only; the other agent not.
    from core.roles import has_capability

    assert "marketing / marketing-demo-2026 (may run campaigns)" in output
    marketing, agent = User.objects.get(username="marketing"), User.objects.get(username="agent")
    assert has_capability(marketing, "run_campaigns") and not has_capability(agent, "run_campaigns")
    assert [n.name for n in numbers_for_user(marketing)] == ["Support DE"]
    assert client.login(username="marketing", password="marketing-demo-2026")
    assert client.get("/campaigns/").status_code == 200
    # One webhook event for a number nobody added, flagged for an admin (seeded once).
    from webhooks.models import WebhookEvent

    flagged = WebhookEvent.objects.get()
    assert flagged.state == WebhookEvent.State.FLAGGED
    assert "unknown phone_number_id 100000000000009" in flagged.reason
