"""Meta's webhook JSON, parsed by whatsapp.schemas, applied by the receive services."""

from __future__ import annotations

import json

import pytest

from conversations.models import Contact, Message
from conversations.services import (
    contact_preference_apply,
    inbound_message_receive,
    message_status_apply,
    number_for_phone_number_id,
)
from whatsapp.schemas import MessagesChange, iter_changes, parse_webhook


def _envelope(number, value: dict) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id},
        **value,
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": number.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def _apply(body: bytes) -> list:
    """What webhook processing does with a messages change (docs/seams.md)."""
    results = []
    for change in iter_changes(parse_webhook(body)):
        assert isinstance(change, MessagesChange)
        number = number_for_phone_number_id(change.phone_number_id)
        profiles = {p.wa_id or p.user_id: p for p in change.contacts}
        for message in change.messages:
            profile = profiles.get(message.from_wa_id or message.from_user_id)
            results.append(inbound_message_receive(number=number, message=message, profile=profile))
        for status in change.statuses:
            results.append(message_status_apply(status=status))
        for preference in change.user_preferences:
            results.append(contact_preference_apply(preference=preference))
    return results


@pytest.mark.django_db
def test_text_button_status_and_preferences_from_real_json(number):
    body = _envelope(
        number,
        {
            "contacts": [{"profile": {"name": "Jana Schmidt"}, "wa_id": "4915112345678", "user_id": "DE.1234567890"}],
            "messages": [
                {
                    "from": "4915112345678",
                    "from_user_id": "DE.1234567890",
                    "id": "wamid.IN1",
                    "timestamp": "1790417200",
                    "type": "text",
                    "text": {"body": "Abmelden!"},
                }
            ],
        },
    )
    [message] = _apply(body)
    contact = message.conversation.contact
    assert (contact.wa_id, contact.user_id, contact.profile_name, contact.market) == (
        "4915112345678",
        "DE.1234567890",
        "Jana Schmidt",
        "DE",
    )
    assert contact.marketing_opt_out_source == "keyword"
    assert message.conversation.last_inbound_at.timestamp() == 1790417200
    assert _apply(body) == [None]  # Meta retried the delivery

    Message.objects.create(
        conversation=message.conversation, direction="out", type="text", text="Hi", wamid="wamid.OUT123", status="sent"
    )
    [updated] = _apply(
        _envelope(
            number,
            {
                "statuses": [
                    {
                        "id": "wamid.OUT123",
                        "status": "failed",
                        "timestamp": "1790417300",
                        "recipient_id": "4915112345678",
                        "errors": [
                            {
                                "code": 131047,
                                "title": "Re-engagement message",
                                "message": "Re-engagement message",
                                "error_data": {
                                    "details": "Message failed to send because more than 24 hours have passed"
                                },
                            }
                        ],
                    }
                ]
            },
        )
    )
    assert (updated.status, updated.error_code) == ("failed", 131047)
    assert "24 hours" in updated.error_details
    updated.conversation.refresh_from_db()
    assert updated.conversation.window_closed_at.timestamp() == 1790417300

    [resumed] = _apply(
        _envelope(
            number,
            {
                "user_preferences": [
                    {
                        "wa_id": "4915112345678",
                        "detail": "User requested to resume marketing messages",
                        "category": "marketing_messages",
                        "value": "resume",
                        "timestamp": 1790417400,
                    }
                ]
            },
        )
    )
    assert isinstance(resumed, Contact) and not resumed.marketing_opted_out


@pytest.mark.django_db
def test_stop_promotions_button_from_real_json(number):
    body = _envelope(
        number,
        {
            "contacts": [{"profile": {"name": "Max"}, "wa_id": "4917612345670"}],
            "messages": [
                {
                    "context": {"from": "15550001111", "id": "wamid.OUT9"},
                    "from": "4917612345670",
                    "id": "wamid.IN456",
                    "timestamp": "1790417200",
                    "type": "button",
                    "button": {"payload": "STOP_PROMO", "text": "Stop promotions"},
                }
            ],
        },
    )
    [message] = _apply(body)
    assert message.conversation.contact.marketing_opted_out
    assert message.context_wamid == "wamid.OUT9"


@pytest.mark.django_db
def test_reaction_from_real_json_does_not_move_window(number):
    first = _apply(
        _envelope(
            number,
            {
                "contacts": [{"profile": {"name": "Max"}, "wa_id": "4917612345670"}],
                "messages": [
                    {
                        "from": "4917612345670",
                        "id": "wamid.A",
                        "timestamp": "1790417200",
                        "type": "text",
                        "text": {"body": "Hallo"},
                    }
                ],
            },
        )
    )[0]
    _apply(
        _envelope(
            number,
            {
                "contacts": [{"profile": {"name": "Max"}, "wa_id": "4917612345670"}],
                "messages": [
                    {
                        "from": "4917612345670",
                        "id": "wamid.B",
                        "timestamp": "1790420000",
                        "type": "reaction",
                        "reaction": {"message_id": "wamid.A", "emoji": "👍"},
                    }
                ],
            },
        )
    )
    first.conversation.refresh_from_db()
    assert first.conversation.last_inbound_at.timestamp() == 1790417200
