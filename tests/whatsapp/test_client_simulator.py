"""The client against the project's Cloud API simulator over HTTP: each error class, retries, media."""

from __future__ import annotations

import logging

import pytest

from tests.whatsapp.conftest import TOKEN
from whatsapp import outbound
from whatsapp.client import get_client
from whatsapp.errors import CloudApiError
from whatsapp.retry import call_with_retry
from whatsapp.simulator.server import Simulator

PNID = "106540352242922"


@pytest.fixture
def sim(settings):
    # Status webhooks are scheduled far out: these tests are about the synchronous API.
    simulator = Simulator(
        webhook_url="http://127.0.0.1:9/unused", app_secret="s", access_token=TOKEN, status_delay=3600
    ).start()
    simulator.add_number(PNID, display_phone_number="49301234567", waba_id="102290129340398")
    settings.WHATSAPP_GRAPH_URL = simulator.url
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN
    settings.WHATSAPP_API_VERSION = simulator.api_version
    yield simulator
    simulator.stop()


def _send():
    return get_client().send_message(phone_number_id=PNID, payload=outbound.text("+4915112345678", "Hallo"))


def test_send_returns_the_wamid_the_simulator_recorded(sim):
    wamid = _send()
    assert wamid.startswith("wamid.")
    assert sim.status_of(wamid) is not None


@pytest.mark.parametrize(
    ("code", "transient", "stops"),
    [(130429, True, False), (131000, True, False), (131056, True, False), (2, True, False),
     (100, False, False), (132001, False, False), (190, False, True), (368, False, True), (131042, False, True)],
)  # fmt: skip
def test_error_classes(sim, code, transient, stops):
    sim.fail_next(code)
    with pytest.raises(CloudApiError) as info:
        _send()
    assert info.value.code == code
    assert (info.value.transient, info.value.stops_channel) == (transient, stops)


def test_a_rate_limit_is_transient(sim):
    sim.set_rate_limit(1)
    _send()
    with pytest.raises(CloudApiError) as info:
        _send()
    assert info.value.code == 130429 and info.value.transient


def test_transient_failures_are_retried_with_backoff_until_the_send_goes_through(sim):
    sim.fail_next(131000, count=2)
    slept: list[float] = []
    wamid = call_with_retry(_send, sleep=slept.append, rng=lambda: 1.0)
    assert wamid.startswith("wamid.")
    assert slept == [1.0, 2.0]


def test_a_wrong_token_stops_the_channel_and_is_not_logged(sim, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.WHATSAPP_ACCESS_TOKEN = "EAAG-the-wrong-token-123456"
    with pytest.raises(CloudApiError) as info:
        _send()
    assert info.value.stops_channel
    assert "EAAG-the-wrong-token-123456" not in caplog.text + str(info.value) + repr(get_client())


def test_media_round_trip(sim):
    client = get_client()
    media_id = client.upload_media(
        phone_number_id=PNID, content=b"\x89PNG-data", mime_type="image/png", filename="a.png"
    )
    info = client.media_info(media_id=media_id)
    assert info["mime_type"] == "image/png"
    assert client.download_media(url=info["url"], max_bytes=1000) == b"\x89PNG-data"
    with pytest.raises(CloudApiError, match="too large"):
        client.download_media(url=info["url"], max_bytes=3)
