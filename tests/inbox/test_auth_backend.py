"""The signed-in user in one query (inbox/auth_backend.py), with the same answers as Django's."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.test import Client

from core.roles import perm, role_of
from inbox.auth_backend import InboxBackend, _groups_and_permissions_kept
from inbox.services import user_create_or_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_profile_and_groups_and_permissions_in_one_query(agent, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = InboxBackend().get_user(agent.pk)
        assert user.profile.time_zone is not None
        assert role_of(user) == role_of(user) == "agent"
        assert user.has_perm(perm("work_inbox")) and not user.has_perm(perm("manage_users"))


@pytest.mark.parametrize("username", ["alice", "ada", "fiona"])
def test_the_permissions_are_djangos(agent, admin_user, finance, username):
    user = get_user_model().objects.get(username=username)
    grant = Permission.objects.get(content_type__app_label="inbox", codename="run_campaigns")
    user.user_permissions.add(grant)  # a permission of the user's own, besides the role's
    expected = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
    assert InboxBackend().get_all_permissions(InboxBackend().get_user(user.pk)) == expected
    assert "inbox.run_campaigns" in expected


@pytest.mark.parametrize("username", ["alice", "ada", "fiona"])
def test_the_one_query_reads_what_the_two_queries_read(agent, admin_user, finance, username):
    """PostgreSQL reads the user in one query; other databases (make run's SQLite) in two."""
    user = get_user_model().objects.get(username=username)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="inbox", codename="run_campaigns"))
    user.groups.add(*Group.objects.exclude(name=role_of(user))[:1])  # two groups, in no set order
    read = InboxBackend().get_user(user.pk)
    plain = get_user_model().objects.get(pk=user.pk)
    _groups_and_permissions_kept(plain)
    assert sorted((g.pk, g.name) for g in read.groups.all()) == sorted((g.pk, g.name) for g in plain.groups.all())
    assert len(read.groups.all()) == 2
    assert (
        read.get_all_permissions()
        == plain.get_all_permissions()
        == ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
    )


def test_a_user_without_groups_or_permissions_is_read(agent):
    agent.groups.clear()
    user = InboxBackend().get_user(agent.pk)
    assert list(user.groups.all()) == [] and user.get_all_permissions() == set()


def test_an_inactive_user_is_not_read(agent):
    agent.is_active = False
    agent.save()
    assert InboxBackend().get_user(agent.pk) is None


def test_a_changed_role_is_seen_within_the_request_that_changed_it(agent):
    user = InboxBackend().get_user(agent.pk)
    assert role_of(user) == "agent"
    user_create_or_update(username=user.username, role="finance")
    user.groups.set(get_user_model().objects.get(pk=user.pk).groups.all())  # clears the kept groups
    assert role_of(user) == "finance"


def test_a_session_signed_in_with_djangos_backend_still_works(client: Client, agent):
    """Sessions made before this backend name Django's; the agent stays signed in."""
    assert client.login(username=agent.username, password=PASSWORD)
    session = client.session
    assert session[BACKEND_SESSION_KEY] == "inbox.auth_backend.InboxBackend"
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    assert client.get("/inbox/").status_code == 200
