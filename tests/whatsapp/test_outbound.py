from __future__ import annotations

import pytest

from whatsapp import outbound


def test_text_uses_e164_with_plus_and_quotes_a_reply():
    assert outbound.text("4915112345678", "Hallo", reply_to="wamid.IN1") == {
        "recipient_type": "individual",
        "to": "+4915112345678",
        "type": "text",
        "text": {"body": "Hallo", "preview_url": False},
        "context": {"message_id": "wamid.IN1"},
    }


def test_a_bsuid_is_used_when_no_number_is_known():
    payload = outbound.text(None, "Hi", recipient_user_id="DE.123")
    assert payload["recipient"] == "DE.123" and "to" not in payload


def test_a_recipient_is_required():
    with pytest.raises(ValueError):
        outbound.text("", "Hi")


def test_media_puts_caption_and_filename_only_where_meta_accepts_them():
    assert outbound.media("+49151", "document", "M1", caption="Invoice", filename="a.pdf")["document"] == {
        "id": "M1",
        "caption": "Invoice",
        "filename": "a.pdf",
    }
    assert outbound.media("+49151", "audio", "M2", caption="ignored")["audio"] == {"id": "M2"}
    with pytest.raises(ValueError):
        outbound.media("+49151", "gif", "M3")


def test_reaction_and_its_removal():
    assert outbound.reaction("+49151", "wamid.X", "👍")["reaction"] == {"message_id": "wamid.X", "emoji": "👍"}
    assert outbound.reaction("+49151", "wamid.X", "")["reaction"]["emoji"] == ""


def test_template_normalises_the_language():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Anna"}]}]
    payload = outbound.template("+49151", "order_update", "en-US", components)
    assert payload["template"] == {"name": "order_update", "language": {"code": "en_US"}, "components": components}
    assert "components" not in outbound.template("+49151", "hello", "de")["template"]
