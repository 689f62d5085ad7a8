"""Billing fixtures: the default rules, card and map, and outbound messages made the way the
sending path makes them (a Message row, then billing_record_for_message in the same transaction)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps as django_apps

from billing.defaults import install_defaults
from billing.services import billing_record_for_message
from conversations.models import Contact, Conversation, Message

_seq = itertools.count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def billing_defaults(db):
    # transactional_db tests truncate every table, the migration's data too: put it back.
    install_defaults(django_apps)


def contact_for(wa_id: str = "4915112345678", *, market: str = "DE") -> Contact:
    contact, _created = Contact.objects.get_or_create(wa_id=wa_id, defaults={"market": market})
    return contact


def conversation_for(number, *, wa_id: str = "4915112345678", market: str = "DE", last_inbound_at=None):
    conversation, _created = Conversation.objects.get_or_create(
        number=number, contact=contact_for(wa_id, market=market)
    )
    if last_inbound_at is not None:
        conversation.last_inbound_at = last_inbound_at
        conversation.save(update_fields=["last_inbound_at"])
    return conversation


def outbound(conversation, *, type: str = "template", category: str = "MARKETING", name: str = "promo", sender=None):
    return Message.objects.create(
        conversation=conversation,
        direction="out",
        type=type,
        text="hello",
        status="queued",
        sender=sender,
        template_name=name if type == "template" else "",
        template_language="de" if type == "template" else "",
        template_category=category if type == "template" else "",
        wamid=f"wamid.BIL{next(_seq)}",
    )


def send(conversation, *, now: datetime, **kwargs):
    """What the sending path does: the message row, then its billing record, one transaction."""
    from django.db import transaction

    with transaction.atomic():
        message = outbound(conversation, **kwargs)
        record = billing_record_for_message(message=message, now=now)
    return message, record


def in_window_of(at: datetime) -> datetime:
    return at - timedelta(hours=1)


def assert_rollup_matches_records(month) -> None:
    """The summary read from the rollup equals the same figures computed from the records."""
    from decimal import Decimal

    from billing.selectors import _grouped_portable, _grouped_rollup

    def norm(rows):
        return sorted((c, d, str(k), int(n), Decimal(t).normalize()) for c, d, k, n, t in rows)

    assert norm(_grouped_rollup(month, None)) == norm(_grouped_portable(month, None))
