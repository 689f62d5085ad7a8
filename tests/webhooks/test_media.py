"""Inbound media: fetched from the (fake) Graph API over HTTP and stored with Django's storage."""

from __future__ import annotations

import pytest

from conversations.media import media_retry, message_media_download
from conversations.models import Message
from tests.webhooks import helpers as h
from tests.whatsapp.fake_graph import Reply, meta_error

pytestmark = pytest.mark.django_db


def _image_message(client, number, capture, media_id="777001", **image):
    part = {
        "from": "4915112345678",
        "id": h.fresh_wamid(),
        "timestamp": "1790417200",
        "type": "image",
        "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": "x", "caption": "Look", **image},
    }
    with capture(execute=True):
        h.post(client, h.envelope(h.messages_change(number, messages=[part])))
    return Message.objects.get(wamid=part["id"])


def test_inbound_image_is_downloaded_and_stored(client, number, graph, django_capture_on_commit_callbacks):
    graph.files["777001"] = b"\xff\xd8jpeg-bytes"
    message = _image_message(client, number, django_capture_on_commit_callbacks)
    assert message.media_state == Message.MediaState.STORED
    assert message.media_file.read() == b"\xff\xd8jpeg-bytes"
    assert message.media_file.name.endswith(".jpg")
    assert message.text == "Look"
    # Fresh URL from GET /{media-id}, then the download, both with the bearer token.
    paths = [r.path for r in graph.requests]
    assert paths == ["/v26.0/777001", "/files/777001"]
    assert all(r.headers["Authorization"] == "Bearer EAAG-test-token-5f1c9a7e-never-log-me" for r in graph.requests)


def test_media_over_the_size_limit_fails_visibly(client, number, graph, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_MEDIA_MAX_BYTES = 10
    graph.files["777001"] = b"x" * 11
    message = _image_message(client, number, django_capture_on_commit_callbacks)
    assert message.media_state == Message.MediaState.FAILED
    assert "too large" in message.media_error
    assert not message.media_file


def test_media_over_the_limit_without_content_length_is_cut_off(number, graph, settings, client):
    settings.WHATSAPP_MEDIA_MAX_BYTES = 1000
    message = _message_pending(number)
    graph.script("GET", "/files/777001", Reply(body=b"y" * 5000, omit_length=True))
    message_media_download(message_id=message.pk, sleep=lambda s: None)
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.FAILED
    assert "too large" in message.media_error


def _message_pending(number) -> Message:
    message = h.outbound_message(number, wamid=h.fresh_wamid())
    Message.objects.filter(pk=message.pk).update(
        direction="in", status="received", type="image", media_id="777001", media_state="pending"
    )
    message.refresh_from_db()
    return message


def test_transient_errors_are_retried_with_backoff_then_stored(number, graph):
    message = _message_pending(number)
    graph.script("GET", "/v26.0/777001", meta_error(131000, "Something went wrong", status=500), Reply(status=503))
    slept: list[float] = []
    message_media_download(message_id=message.pk, sleep=slept.append, attempts=3)
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.STORED
    assert len(slept) == 2
    assert 0 <= slept[0] <= 1.0 and 0 <= slept[1] <= 2.0  # full jitter under a doubling cap


def test_transient_errors_left_after_retries_are_raised_for_the_task_to_retry_later(number, graph):
    from whatsapp.errors import CloudApiError

    message = _message_pending(number)
    graph.script("GET", "/v26.0/777001", *[meta_error(130429, "Rate limit", status=400)] * 3)
    with pytest.raises(CloudApiError) as info:
        message_media_download(message_id=message.pk, sleep=lambda s: None, attempts=3, final=False)
    assert info.value.transient
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.PENDING


def test_a_permanent_error_fails_at_once_with_a_reason_for_agents(number, graph):
    message = _message_pending(number)
    graph.script("GET", "/v26.0/777001", meta_error(131052, "Media download error", status=400))
    slept: list[float] = []
    message_media_download(message_id=message.pk, sleep=slept.append)
    message.refresh_from_db()
    assert slept == []
    assert message.media_state == Message.MediaState.FAILED
    assert "could not be downloaded" in message.media_error


def test_a_failed_download_can_be_retried(number, graph, django_capture_on_commit_callbacks):
    message = _message_pending(number)
    graph.script("GET", "/v26.0/777001", meta_error(100, "Invalid parameter", status=400))
    message_media_download(message_id=message.pk, sleep=lambda s: None)
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        media_retry(message=message)
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.STORED
    assert message.media_error == ""


def test_media_urls_on_foreign_hosts_never_get_the_token(number, graph):
    message = _message_pending(number)
    graph.script(
        "GET", "/v26.0/777001", Reply(body={"url": "https://attacker.example/steal", "mime_type": "image/jpeg"})
    )
    message_media_download(message_id=message.pk, sleep=lambda s: None)
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.FAILED
    assert "unexpected host" in message.media_error


def test_the_celery_task_records_the_failure_when_retries_run_out(number, graph, settings):
    from conversations.tasks import media_download

    message = _message_pending(number)
    graph.script("GET", "/v26.0/777001", *[Reply(status=503)] * 100)
    result = media_download.apply(args=[message.pk], retries=media_download.max_retries)
    assert result.get() == Message.MediaState.FAILED
    message.refresh_from_db()
    assert message.media_state == Message.MediaState.FAILED


def test_the_download_task_keeps_the_name_it_is_queued_under():
    """Downloads published before the task moved to conversations sit in Redis under its old
    name; a worker must still run them."""
    from celery import current_app

    from conversations.tasks import media_download

    assert media_download.name == "webhooks.tasks.media_download"
    # What a worker runs for that name is this task (shared_task hands out a proxy, so compare what it runs).
    assert current_app.tasks["webhooks.tasks.media_download"].run == media_download.run
    assert media_download.run.__module__ == "conversations.tasks"


def test_a_retry_publishes_the_download_task_on_commit(number, monkeypatch, django_capture_on_commit_callbacks):
    from conversations.tasks import media_download

    published: list[int] = []
    monkeypatch.setattr(media_download, "delay", published.append)
    message = _message_pending(number)
    Message.objects.filter(pk=message.pk).update(media_state="failed", media_error="gone")
    message.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        media_retry(message=message)
    assert published == []  # not before the commit
    for callback in callbacks:
        callback()
    assert published == [message.pk]
