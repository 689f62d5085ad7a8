"""The Cloud API client against a fake Graph API over real HTTP (no mocked requests)."""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.whatsapp.conftest import TOKEN
from tests.whatsapp.fake_graph import Reply, meta_error
from whatsapp.client import get_client
from whatsapp.errors import CloudApiError
from whatsapp.retry import call_with_retry

PNID = "106540352242922"


def test_send_message_posts_metas_body_and_returns_the_wamid(graph):
    graph.script(
        "POST",
        f"/v26.0/{PNID}/messages",
        Reply(body={"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.OUT1"}]}),
    )
    wamid = get_client().send_message(
        phone_number_id=PNID, payload={"to": "+49151", "type": "text", "text": {"body": "Hi"}}
    )
    assert wamid == "wamid.OUT1"
    seen = graph.requests[0]
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.json() == {"messaging_product": "whatsapp", "to": "+49151", "type": "text", "text": {"body": "Hi"}}


@pytest.mark.parametrize("typing", [False, True])
def test_mark_read_and_typing_indicator(graph, typing):
    graph.script("POST", f"/v26.0/{PNID}/messages", Reply(body={"success": True}))
    get_client().mark_read(phone_number_id=PNID, wamid="wamid.IN1", typing=typing)
    body = graph.requests[0].json()
    assert body["status"] == "read" and body["message_id"] == "wamid.IN1"
    assert ("typing_indicator" in body) is typing


def test_upload_media_sends_multipart(graph):
    graph.script("POST", f"/v26.0/{PNID}/media", Reply(body={"id": "MEDIA1"}))
    assert (
        get_client().upload_media(phone_number_id=PNID, content=b"PNGDATA", mime_type="image/png", filename="a.png")
        == "MEDIA1"
    )
    seen = graph.requests[0]
    assert seen.headers["Content-Type"].startswith("multipart/form-data")
    assert b"PNGDATA" in seen.body and b'name="messaging_product"' in seen.body and b"a.png" in seen.body


def test_media_info_normalises_the_size(graph):
    info = get_client().media_info(media_id="555")
    assert info["url"] == f"{graph.url}/files/555"
    assert info["file_size"] == len(b"media-555")
    assert info["mime_type"] == "image/jpeg"


def test_download_media_respects_the_limit(graph):
    graph.files["9"] = b"z" * 100
    client = get_client()
    assert client.download_media(url=f"{graph.url}/files/9", max_bytes=100) == b"z" * 100
    with pytest.raises(CloudApiError, match="too large") as info:
        client.download_media(url=f"{graph.url}/files/9", max_bytes=99)
    assert not info.value.transient


def test_download_media_sends_the_token_only_to_known_hosts(graph):
    with pytest.raises(CloudApiError, match="unexpected host"):
        get_client().download_media(url="http://example.org/files/1", max_bytes=10)
    assert graph.requests == []


def test_templates_create_list_with_paging_and_delete(graph):
    waba = "102290129340398"
    path = f"/v26.0/{waba}/message_templates"
    graph.script("POST", path, Reply(body={"id": "T1", "status": "PENDING", "category": "UTILITY"}))
    graph.script(
        "GET",
        path,
        Reply(body={"data": [{"name": "a"}], "paging": {"cursors": {"after": "C1"}, "next": "https://x/next"}}),
        Reply(body={"data": [{"name": "b"}], "paging": {"cursors": {"after": "C2"}}}),
    )
    graph.script("DELETE", path, Reply(body={"success": True}))
    client = get_client()
    assert client.template_create(waba_id=waba, template={"name": "a"})["status"] == "PENDING"
    assert [t["name"] for t in client.template_list(waba_id=waba)] == ["a", "b"]
    client.template_delete(waba_id=waba, name="a")
    list_calls = [r for r in graph.requests if r.method == "GET"]
    assert list_calls[1].query["after"] == ["C1"]
    assert graph.requests[-1].query == {"name": ["a"]}


@pytest.mark.parametrize(
    ("reply", "transient", "stops"),
    [
        (meta_error(130429, "Rate limit hit"), True, False),
        (meta_error(131056, "Pair rate limit hit"), True, False),
        (meta_error(131000, "Something went wrong", status=500), True, False),
        (meta_error(131047, "Re-engagement message"), False, False),
        (meta_error(131026, "Message undeliverable"), False, False),
        (meta_error(132001, "Template does not exist", status=404), False, False),
        (meta_error(190, "Invalid OAuth access token", status=401), False, True),
        (meta_error(131031, "Account locked", status=403), False, True),
        (Reply(status=502, body=b"<html>Bad gateway</html>"), True, False),
        (Reply(status=200, body=b"not json"), True, False),
    ],
)
def test_error_answers_are_classified(graph, reply, transient, stops):
    graph.script("POST", f"/v26.0/{PNID}/messages", reply)
    with pytest.raises(CloudApiError) as info:
        get_client().send_message(phone_number_id=PNID, payload={"to": "+49151", "type": "text"})
    assert info.value.transient is transient
    assert info.value.stops_channel is stops
    if isinstance(reply.body, dict):
        assert info.value.code == reply.body["error"]["code"]
        assert info.value.http_status == reply.status


def test_a_timeout_is_transient(graph, settings):
    settings.WHATSAPP_HTTP_TIMEOUT = 0.2
    graph.script("GET", "/v26.0/1", Reply(body={"url": "x"}, delay=1.0))
    with pytest.raises(CloudApiError, match="timed out") as info:
        get_client().media_info(media_id="1")
    assert info.value.transient


def test_an_unreachable_server_is_transient(settings):
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(CloudApiError) as info:
        get_client().media_info(media_id="1")
    assert info.value.transient


def test_one_session_per_process_rebuilt_only_when_settings_change(graph, settings):
    first = get_client()
    assert get_client() is first
    settings.WHATSAPP_API_VERSION = "v25.0"
    assert get_client() is not first
    assert get_client().version == "v25.0"


def test_retries_against_the_server_back_off(graph):
    graph.script("GET", "/v26.0/7", Reply(status=503), meta_error(130429, "Rate limit hit"))
    slept: list[float] = []
    info = call_with_retry(lambda: get_client().media_info(media_id="7"), sleep=slept.append, rng=lambda: 1.0)
    assert info["url"].endswith("/files/7")
    assert slept == [1.0, 2.0]
    assert len(graph.requests) == 3


def test_the_token_never_appears_in_logs_errors_or_reprs(graph, settings, caplog):
    """Meta (or a proxy) may echo what it was sent; nothing we log or raise may carry the token."""
    caplog.set_level(logging.DEBUG)  # urllib3 and requests too
    echo = f"Invalid OAuth access token - Cannot parse access token {TOKEN}"
    graph.script("POST", f"/v26.0/{PNID}/messages", meta_error(190, echo, status=401, details=f"token={TOKEN}"))
    graph.script("GET", "/v26.0/2", Reply(status=500, body=f"upstream said Bearer {TOKEN}".encode()))
    graph.script("GET", "/v26.0/3", Reply(body={"url": "x"}, delay=1.0))
    settings.WHATSAPP_HTTP_TIMEOUT = 0.3
    client = get_client()
    raised: list[BaseException] = []
    for call in (
        lambda: client.send_message(phone_number_id=PNID, payload={"to": "+49151", "type": "text"}),
        lambda: client.media_info(media_id="2"),
        lambda: client.media_info(media_id="3"),
        lambda: client.download_media(url=f"http://127.0.0.1:9/{TOKEN}", max_bytes=1),
    ):
        with pytest.raises(CloudApiError) as info:
            call()
        raised.append(info.value)
        logging.getLogger("test").exception("as a caller would log it", exc_info=info.value)
    client.media_info(media_id="4")  # and a successful call

    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in graph.requests)  # it was really sent
    assert TOKEN not in caplog.text
    for exc in raised:
        assert TOKEN not in str(exc)
        assert TOKEN not in repr(exc)
        assert TOKEN not in "".join(traceback.format_exception(exc))
        assert exc.__cause__ is None
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client._auth)
    assert TOKEN not in repr(vars(client))


def test_a_send_whose_answer_times_out_may_have_been_delivered(graph, settings):
    """Meta got the request but we never saw the answer: retrying could send the message twice."""
    settings.WHATSAPP_HTTP_TIMEOUT = 0.2
    graph.script("POST", f"/v26.0/{PNID}/messages", Reply(body={"messages": [{"id": "wamid.X"}]}, delay=1.0))
    with pytest.raises(CloudApiError, match="timed out") as info:
        get_client().send_message(phone_number_id=PNID, payload={"to": "+49151", "type": "text"})
    assert info.value.maybe_delivered
    assert len(graph.requests) == 1


def test_a_refused_connection_was_never_delivered(settings):
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(CloudApiError) as info:
        get_client().send_message(phone_number_id=PNID, payload={"to": "+49151", "type": "text"})
    assert info.value.transient
    assert not info.value.maybe_delivered
