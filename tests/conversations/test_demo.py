from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from conversations.models import CannedResponse, Contact, Conversation, Message


@pytest.mark.django_db
def test_seed_demo_chats_are_varied_and_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Conversation.objects.count(), Message.objects.count(), CannedResponse.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Conversation.objects.count(), Message.objects.count(), CannedResponse.objects.count()) == counts
    statuses = set(Conversation.objects.values_list("status", flat=True))
    assert {"open", "resolved", "snoozed"} <= statuses
    assert Contact.objects.filter(marketing_opt_out_source="keyword").exists()
    assert set(Contact.objects.values_list("market", flat=True)) >= {"DE", "GB", "BR", "US"}
    assert Message.objects.filter(status="failed", error_code=131026).exists()
    assert Message.objects.filter(type="note").exists()
    assert Conversation.objects.filter(assignee__isnull=False).exists()
    assert Conversation.objects.filter(labels__isnull=False).exists()
