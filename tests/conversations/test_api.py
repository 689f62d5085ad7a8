from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation
from conversations.services import message_send_text
from tests.conversations.conftest import bearer, receive, utc

T0 = utc(2026, 6, 1, 10, 0, 0)
URL = "/api/v1/conversations"


@pytest.fixture
def conversation(number):
    return receive(number, at=T0).conversation


@pytest.mark.django_db
def test_list_item_shape(client, agent, conversation):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        response = client.get(URL, **bearer(agent))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["items"] == [
        {
            "id": conversation.pk,
            "contact": {"wa_id": "4915112345678", "name": "Jana"},
            "status": "open",
            "assignee": None,
            "window": {"open": True, "expires_at": "2026-06-02T10:00:00Z"},
            "last_message_at": "2026-06-01T10:00:00Z",
            "unread": 1,
        }
    ]


@pytest.mark.django_db
def test_list_filters_and_cursor(client, agent, number):
    for i in range(5):
        receive(number, at=T0 + timedelta(hours=i), wa_id=f"49151000000{i}")
    newest = Conversation.objects.order_by("-last_message_at").first()
    Conversation.objects.filter(pk=newest.pk).update(assignee=agent)
    headers = bearer(agent)
    with time_machine.travel(T0 + timedelta(hours=26), tick=False):
        seen, cursor = [], None
        while True:
            page = client.get(URL, {"limit": 2, **({"cursor": cursor} if cursor else {})}, **headers).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        assert seen == list(Conversation.objects.order_by("-last_message_at").values_list("pk", flat=True))
        # 26 h after T0 the window opened at T0+2h has just closed (24 h exactly); T0+3h and T0+4h are open.
        assert len(client.get(URL, {"window": "open"}, **headers).json()["items"]) == 2
        assert len(client.get(URL, {"window": "closed"}, **headers).json()["items"]) == 3
        assert [i["id"] for i in client.get(URL, {"assignee": "me"}, **headers).json()["items"]] == [newest.pk]
        assert len(client.get(URL, {"assignee": "none"}, **headers).json()["items"]) == 4
        assert client.get(URL, {"assignee": str(agent.pk)}, **headers).json()["items"][0]["id"] == newest.pk
        assert client.get(URL, {"status": "resolved"}, **headers).json()["items"] == []
        bad = client.get(URL, {"status": "nope"}, **headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
        bad = client.get(URL, {"cursor": "garbage"}, **headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def _count_list_queries(client, url):
    client.get(url)  # warm up (session, permissions caches)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_list_endpoints_run_fixed_number_of_queries(client, agent, number, django_assert_num_queries):
    client.force_login(agent)
    for i in range(5):
        receive(number, at=T0 + timedelta(minutes=i), wa_id=f"4915200000{i:02d}")
    few = _count_list_queries(client, f"{URL}?limit=100")
    conversation = Conversation.objects.first()
    for i in range(5):
        message_send_text(conversation=conversation, sender=agent, text=f"m{i}", now=T0 + timedelta(minutes=10))
    few_messages = _count_list_queries(client, f"{URL}/{conversation.pk}/messages?limit=100")

    for i in range(5, 50):
        receive(number, at=T0 + timedelta(minutes=i), wa_id=f"4915200000{i:02d}")
    for i in range(45):
        message_send_text(conversation=conversation, sender=agent, text=f"n{i}", now=T0 + timedelta(minutes=60))
    Conversation.objects.filter(pk__in=Conversation.objects.values("pk")[:20]).update(assignee=agent)
    with django_assert_num_queries(few):
        response = client.get(f"{URL}?limit=100")
    assert len(response.json()["items"]) == 50
    with django_assert_num_queries(few_messages):
        response = client.get(f"{URL}/{conversation.pk}/messages?limit=100")
    assert len(response.json()["items"]) == 51


@pytest.mark.django_db
def test_messages_newest_last_with_cursor(client, agent, conversation):
    for i in range(4):
        message_send_text(conversation=conversation, sender=agent, text=f"r{i}", now=T0 + timedelta(minutes=i))
    headers = bearer(agent)
    page = client.get(f"{URL}/{conversation.pk}/messages", {"limit": 3}, **headers).json()
    assert [m["text"] for m in page["items"]] == ["r1", "r2", "r3"]
    older = client.get(f"{URL}/{conversation.pk}/messages", {"limit": 3, "cursor": page["next"]}, **headers).json()
    assert [m["text"] for m in older["items"]] == ["Hallo", "r0"]
    assert older["next"] is None
    item = page["items"][0]
    assert set(item) >= {
        "id",
        "wamid",
        "direction",
        "type",
        "text",
        "status",
        "created_at",
        "sender",
        "template",
        "error",
    }
    assert item["direction"] == "out" and item["sender"] == {"id": agent.pk, "username": "alice"}


@pytest.mark.django_db
def test_post_text_inside_window_202(client, agent, conversation, fake_client, django_capture_on_commit_callbacks):
    client_id = str(uuid.uuid4())
    headers = bearer(agent)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            f"{URL}/{conversation.pk}/messages",
            {"text": "Hallo!", "client_id": client_id},
            content_type="application/json",
            **headers,
        )
        again = client.post(
            f"{URL}/{conversation.pk}/messages",
            {"text": "Hallo!", "client_id": client_id},
            content_type="application/json",
            **headers,
        )
    assert first.status_code == 202, first.content
    assert first.json()["status"] == "queued" and first.json()["direction"] == "out"
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
def test_post_text_outside_window_409(client, agent, conversation, fake_client):
    with time_machine.travel(T0 + timedelta(hours=24, seconds=1), tick=False):
        response = client.post(
            f"{URL}/{conversation.pk}/messages", {"text": "Hallo?"}, content_type="application/json", **bearer(agent)
        )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "window_closed"
    assert error["window_expired_at"] == "2026-06-02T10:00:00+00:00"
    assert error["message"]
    assert fake_client.sent == []


@pytest.mark.django_db
def test_post_template_answers_not_approved_until_templates_exist(client, agent, conversation):
    response = client.post(
        f"{URL}/{conversation.pk}/messages",
        {"template": "order_update", "language": "de"},
        content_type="application/json",
        **bearer(agent),
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "template_not_approved"


@pytest.mark.django_db
def test_post_validation(client, agent, conversation):
    response = client.post(f"{URL}/{conversation.pk}/messages", {}, content_type="application/json", **bearer(agent))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_outsider_gets_404_everywhere(client, outsider, conversation):
    headers = bearer(outsider)
    assert client.get(URL, **headers).json()["items"] == []
    for response in (
        client.get(f"{URL}/{conversation.pk}", **headers),
        client.get(f"{URL}/{conversation.pk}/messages", **headers),
        client.post(f"{URL}/{conversation.pk}/messages", {"text": "x"}, content_type="application/json", **headers),
        client.post(f"{URL}/{conversation.pk}/assign", {"assignee": "me"}, content_type="application/json", **headers),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/search", {"q": "Hallo"}, **headers).json() == {"conversations": [], "messages": []}


@pytest.mark.django_db
def test_admin_sees_all(client, admin_user, conversation, other_number):
    receive(other_number, at=T0, wa_id="447700900123")
    assert len(client.get(URL, **bearer(admin_user)).json()["items"]) == 2


@pytest.mark.django_db
def test_finance_forbidden_and_anonymous_unauthenticated(client, finance, conversation):
    response = client.get(URL, **bearer(finance))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = client.get(URL)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.django_db
def test_assign_status_notes_labels_read(
    client, agent, teammate, outsider, conversation, fake_client, django_capture_on_commit_callbacks
):
    headers = bearer(agent)
    base = f"{URL}/{conversation.pk}"
    r = client.post(f"{base}/assign", {"assignee": "me"}, content_type="application/json", **headers)
    assert r.status_code == 200 and r.json()["assignee"]["username"] == "alice"
    r = client.post(f"{base}/assign", {"assignee": outsider.pk}, content_type="application/json", **headers)
    assert r.status_code == 422
    r = client.post(f"{base}/assign", {"assignee": None}, content_type="application/json", **headers)
    assert r.json()["assignee"] is None
    r = client.post(
        f"{base}/status",
        {"status": "snoozed", "snooze_until": (timezone.now() + timedelta(days=2)).isoformat()},
        content_type="application/json",
        **headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "snoozed"
    r = client.post(f"{base}/status", {"status": "snoozed"}, content_type="application/json", **headers)
    assert r.status_code == 422
    r = client.post(f"{base}/notes", {"text": "Kunde ruft morgen an"}, content_type="application/json", **headers)
    assert r.status_code == 201 and r.json()["type"] == "note"
    r = client.post(f"{base}/labels", {"name": "Rückerstattung"}, content_type="application/json", **headers)
    assert r.json() == ["Rückerstattung"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{base}/read", **headers).status_code == 204
    assert len(fake_client.read) == 1
    assert fake_client.sent == []


@pytest.mark.django_db
def test_search_messages_and_contacts(client, agent, number):
    receive(number, at=T0, wa_id="4915112345678", text="Wo ist meine Bestellung 4711?", name="Jana Schmidt")
    receive(number, at=T0, wa_id="447700900123", text="Hello there", name="Oliver Twist")
    headers = bearer(agent)
    body = client.get("/api/v1/search", {"q": "bestell"}, **headers).json()
    assert [m["text"] for m in body["messages"]] == ["Wo ist meine Bestellung 4711?"]
    assert [c["contact"]["name"] for c in body["conversations"]] == ["Jana Schmidt"]
    body = client.get("/api/v1/search", {"q": "twis"}, **headers).json()
    assert [c["contact"]["name"] for c in body["conversations"]] == ["Oliver Twist"]
    body = client.get("/api/v1/search", {"q": "+44 7700"}, **headers).json()
    assert [c["contact"]["wa_id"] for c in body["conversations"]] == ["447700900123"]
    body = client.get("/api/v1/search", {"q": "4711 & !"}, **headers).json()
    assert len(body["messages"]) == 1


@pytest.mark.django_db
def test_openapi_lists_conversation_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/conversations/{conversation_id}/messages" in paths
