from __future__ import annotations

import pytest

from whatsapp.errors import CloudApiError, classify, reason_for

TRANSIENT = [1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057]
STOPS_CHANNEL = [190, 368, 131031, 131042]
PERMANENT = [0, 10, 100, 131026, 131047, 131049, 131050, 131051, 131053, 132000, 132001, 132012, 132015, 250, 999999]


@pytest.mark.parametrize("code", TRANSIENT)
def test_transient_codes(code):
    exc = CloudApiError(code=code, title="x", http_status=400)
    assert exc.transient and not exc.stops_channel


@pytest.mark.parametrize("code", STOPS_CHANNEL)
def test_channel_stopping_codes(code):
    exc = CloudApiError(code=code, title="x", http_status=401)
    assert exc.stops_channel and not exc.transient


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_codes(code):
    exc = CloudApiError(code=code, title="x", http_status=400)
    assert not exc.transient and not exc.stops_channel


def test_pace_refusals_say_which_line_to_slow():
    """The delivery task acts on these, never on Meta's codes (conversations/pacing.py)."""
    number, customer = CloudApiError(code=130429, title="x"), CloudApiError(code=131056, title="x")
    assert number.slows_number and not number.slows_customer
    assert customer.slows_customer and not customer.slows_number
    other = CloudApiError(code=131000, title="x")
    assert not other.slows_number and not other.slows_customer


def test_131049_is_deferred_a_day():
    assert CloudApiError(code=131049).defer_seconds == 24 * 3600


@pytest.mark.parametrize(("status", "transient"), [(None, True), (500, True), (503, True), (429, True), (404, False)])
def test_without_a_meta_code_the_http_status_decides(status, transient):
    assert CloudApiError(http_status=status).transient is transient


def test_reasons_are_plain_words_and_never_empty():
    assert "24 hours" in str(reason_for(131047))
    assert "999999" in str(reason_for(999999))
    assert str(reason_for(None))
    assert str(classify(250).reason)


def test_reasons_are_translatable():
    # Lazy: evaluated in the reader's language, not at import time.
    assert type(reason_for(131047)).__name__ == "__proxy__"
    assert type(reason_for(999999)).__name__ == "__proxy__"


def test_message_and_repr():
    exc = CloudApiError(code=131047, title="Re-engagement message", details="More than 24 hours", http_status=400)
    assert str(exc) == "(131047) Re-engagement message: More than 24 hours [HTTP 400]"
    assert repr(exc) == "CloudApiError(code=131047, http_status=400, transient=False)"
