from __future__ import annotations

from whatsapp.checks import access_token_set


def test_production_needs_an_access_token(settings):
    settings.DEBUG = False
    settings.WHATSAPP_ACCESS_TOKEN = ""
    assert [e.id for e in access_token_set(None)] == ["whatsapp.W001"]
    settings.WHATSAPP_ACCESS_TOKEN = "EAAG"
    assert access_token_set(None) == []
