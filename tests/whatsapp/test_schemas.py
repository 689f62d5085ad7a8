"""Reading Meta's webhook JSON: tolerant of old and new shapes, strict about what we rely on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from whatsapp import schemas


def _env(value, field="messages", waba_id="W1"):
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "changes": [{"field": field, "value": value}]}],
        }
    ).encode()


def _change(value, **kw):
    (change,) = schemas.iter_changes(schemas.parse_webhook(_env(value, **kw)))
    return change


META = {"metadata": {"display_phone_number": "15550001111", "phone_number_id": "123"}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not JSON"),
        (b"\xff", "not JSON"),
        (b"null", "JSON NoneType"),
        (b"{}", "entry"),
        (b'{"entry": 5}', "entry"),
    ],
)
def test_parse_webhook_explains_what_is_wrong(body, reason):
    with pytest.raises(schemas.PayloadError, match=reason):
        schemas.parse_webhook(body)


def test_deeply_nested_json_is_a_payload_error_not_a_crash():
    with pytest.raises(schemas.PayloadError):
        schemas.parse_webhook(b"[" * 100_000 + b"]" * 100_000)


def test_numbers_as_ints_and_a_message_without_from():
    change = _change(
        {
            "metadata": {"display_phone_number": 15550001111, "phone_number_id": 123},
            "contacts": [{"profile": {"name": "Anna", "username": "@anna"}, "user_id": "DE.1", "wa_id": 4915}],
            "messages": [{"from_user_id": "DE.1", "id": "wamid.1", "timestamp": 1790417200, "type": "text",
                          "text": {"body": "Hi"}, "brand_new_field": {"x": 1}}],
        }
    )  # fmt: skip
    assert isinstance(change, schemas.MessagesChange)
    assert (change.phone_number_id, change.display_phone_number, change.waba_id) == ("123", "15550001111", "W1")
    (message,) = change.messages
    assert message.from_wa_id is None and message.from_user_id == "DE.1"
    assert message.timestamp == datetime.fromtimestamp(1790417200, tz=UTC)
    assert message.raw["brand_new_field"] == {"x": 1}
    profile = change.profile_for(message)
    assert (profile.wa_id, profile.user_id, profile.username) == ("4915", "DE.1", "@anna")


@pytest.mark.parametrize(
    ("part", "kind", "text"),
    [
        ({"type": "text", "text": {"body": "Hallo"}}, "text", "Hallo"),
        ({"type": "image", "image": {"id": "M1", "caption": "Pic"}}, "image", "Pic"),
        ({"type": "document", "document": {"id": "M1", "filename": "a.pdf"}}, "document", "a.pdf"),
        ({"type": "location", "location": {"latitude": 1.5, "longitude": 2}}, "location", "1.5, 2"),
        ({"type": "button", "button": {"payload": "STOP_PROMO", "text": "Stop promotions"}}, "button",
         "Stop promotions"),
        ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "1", "title": "T"}}},
         "interactive", "T"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.O", "emoji": "👍"}}, "reaction", "👍"),
        ({"type": "poll_creation", "poll_creation": {}}, "unsupported", ""),
        ({"type": "edit", "edit": {}}, "unsupported", ""),
        ({"type": "interactive"}, "interactive", ""),  # body missing, as in one real example
    ],
)  # fmt: skip
def test_every_type_has_a_display_text(part, kind, text):
    change = _change({**META, "messages": [{"from": "49", "id": "wamid.1", "timestamp": "1790417200", **part}]})
    (message,) = change.messages
    assert (message.type, message.text) == (kind, text)
    assert message.raw["type"] == part["type"]


def test_media_reference_and_voice_notes():
    audio = {"id": "A1", "mime_type": "audio/ogg; codecs=opus", "sha256": "h", "voice": True, "url": "https://x"}
    change = _change(
        {**META, "messages": [{"from": "49", "id": "w", "timestamp": "1", "type": "audio", "audio": audio}]}
    )
    media = change.messages[0].media
    assert (media.id, media.voice, media.url, media.mime_type) == ("A1", True, "https://x", "audio/ogg; codecs=opus")


@pytest.mark.parametrize("reaction", [{"message_id": "wamid.O"}, {"message_id": "wamid.O", "emoji": ""}])
def test_a_removed_reaction_has_no_emoji(reaction):
    change = _change({**META, "messages": [{"from": "49", "id": "w", "timestamp": "1", "type": "reaction",
                                            "reaction": reaction}]})  # fmt: skip
    message = change.messages[0]
    assert (message.reaction_to, message.reaction_emoji) == ("wamid.O", None)


def test_statuses_old_and_new_pricing_with_or_without_conversation():
    statuses = [
        {"id": "w1", "status": "sent", "timestamp": "1", "recipient_id": "49",
         "conversation": {"id": "c", "origin": {"type": "service"}},
         "pricing": {"billable": False, "pricing_model": "CBP", "category": "service"}},
        {"id": "w2", "status": "delivered", "timestamp": "2", "recipient_user_id": "US.1",
         "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}},
        {"id": "w3", "status": "failed", "timestamp": "3", "recipient_id": "49",
         "errors": [{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "24h"}}]},
        {"id": "w4", "status": "READ", "timestamp": "4"},
    ]  # fmt: skip
    change = _change({**META, "statuses": statuses})
    cbp, pmp, failed, read = change.statuses
    assert (cbp.pricing.pricing_model, cbp.pricing.billable, cbp.pricing.type) == ("CBP", False, "")
    assert (pmp.pricing.type, pmp.pricing.category, pmp.recipient_id, pmp.recipient_user_id) == (
        "regular",
        "marketing",
        None,
        "US.1",
    )
    assert (failed.errors[0].code, failed.errors[0].details, failed.errors[0].message) == (
        131047,
        "24h",
        "Re-engagement message",
    )
    assert read.status == "read" and read.pricing is None


def test_unreadable_parts_are_reported_and_the_rest_is_read():
    change = _change(
        {
            **META,
            "messages": [
                {"from": "49", "id": "bad", "timestamp": "<TIMESTAMP>", "type": "text"},
                {"from": "49", "id": "good", "timestamp": "1", "type": "text", "text": {"body": "ok"}},
                "not an object",
            ],
            "statuses": [{"id": "s", "timestamp": "1"}],
        }
    )
    assert [m.id for m in change.messages] == ["good"]
    assert [(p.kind, "timestamp" in p.reason or "status" in p.reason) for p in change.invalid] == [
        ("message", True),
        ("message", False),
        ("status", True),
    ]


def test_user_preferences():
    prefs = [{"wa_id": "49", "detail": "d", "category": "marketing_messages", "value": "STOP", "timestamp": 1731705721}]
    change = _change({**META, "user_preferences": prefs}, field="user_preferences")
    (pref,) = change.user_preferences
    assert (pref.wa_id, pref.value, pref.category) == ("49", "stop", "marketing_messages")


def test_template_changes():
    status = _change(
        {"event": "rejected", "message_template_id": 1689556908129832, "message_template_name": "n",
         "message_template_language": "en-US", "reason": "INVALID_FORMAT",
         "rejection_info": {"reason": "r", "recommendation": "x"}},
        field="message_template_status_update",
    )  # fmt: skip
    assert isinstance(status, schemas.TemplateStatusChange)
    assert (status.template_id, status.language, status.event, status.rejection_info["reason"]) == (
        "1689556908129832",
        "en_US",
        "REJECTED",
        "r",
    )
    quality = _change(
        {"previous_quality_score": "GREEN", "new_quality_score": "RED", "message_template_id": 1},
        field="message_template_quality_update",
    )
    assert (quality.previous_quality, quality.new_quality) == ("GREEN", "RED")
    category = _change(
        {"message_template_id": 1, "new_category": "MARKETING", "correct_category": "UTILITY",
         "category_update_timestamp": 1750344882},
        field="template_category_update",
    )  # fmt: skip
    assert (category.new_category, category.correct_category) == ("MARKETING", "UTILITY")
    assert category.category_update_timestamp.tzinfo is not None


def test_unknown_fields_are_kept_and_unreadable_changes_reported():
    unknown = _change({"event": "ACCOUNT_VIOLATION"}, field="account_update")
    assert isinstance(unknown, schemas.UnknownChange) and unknown.value == {"event": "ACCOUNT_VIOLATION"}
    invalid = _change({"messages": []})  # no metadata: we cannot route it
    assert isinstance(invalid, schemas.InvalidChange) and "metadata" in invalid.reason


def test_every_entry_and_change_of_a_batch_in_order():
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "W1", "changes": [{"field": "messages", "value": META}, {"field": "calls", "value": {}}]},
            {"id": "W2", "changes": [{"field": "account_update", "value": {}}]},
        ],
    }
    changes = list(schemas.iter_changes(schemas.parse_webhook(json.dumps(body).encode())))
    assert [(c.field, c.waba_id) for c in changes] == [("messages", "W1"), ("calls", "W1"), ("account_update", "W2")]
