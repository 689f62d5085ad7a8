"""Answers under /api/v1/ that never reach a handler still keep the contract (issue 7, item 9)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conversations.conftest import bearer, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(number):
    return receive(number, at=timezone.now() - timedelta(hours=1)).conversation


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    return response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/", "/api/v1/conversations/1/nope/deeper", "/api/v1/x.html"])
def test_unknown_paths_answer_the_json_404(client, agent, path):
    for headers in ({}, bearer(agent)):
        response = client.get(path, **headers)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_an_unknown_object_is_still_the_handlers_404(client, agent):
    response = client.get("/api/v1/conversations/999999", **bearer(agent))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/api/v1/conversations"), ("delete", "/api/v1/conversations/1"), ("get", "/api/v1/conversations/1/notes")],
)
def test_every_405_answers_the_json_error_with_allow(client, agent, method, path):
    response = getattr(client, method)(path, **bearer(agent))
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert response["Allow"]
    assert set(error["allowed"]) == {m.strip() for m in response["Allow"].split(",")}


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer wai_wrong"}, {"HTTP_AUTHORIZATION": "Basic x"}])
def test_a_write_without_a_valid_token_is_401_not_a_csrf_refusal(conversation, headers):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        f"/api/v1/conversations/{conversation.pk}/notes", {"text": "hi"}, content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_a_signed_in_browser_write_without_csrf_is_refused_clearly(conversation, agent):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    url = f"/api/v1/conversations/{conversation.pk}/notes"
    response = browser.post(url, {"text": "hi"}, content_type="application/json")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden" and "CSRF" in error["message"]
    browser.get("/settings/")  # any page sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(url, {"text": "hi"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("spelling", ["vip/gold", "vip%2Fgold"])
def test_a_label_with_a_slash_can_be_removed(client, agent, conversation, spelling):
    auth = bearer(agent)
    base = f"/api/v1/conversations/{conversation.pk}/labels"
    assert client.post(base, {"name": "vip/gold"}, content_type="application/json", **auth).json() == ["vip/gold"]
    response = client.delete(f"{base}/{spelling}", **auth)
    assert response.status_code == 200, response.content
    assert response.json() == []


def test_api_answers_are_never_cached(client, agent, conversation):
    auth = bearer(agent)
    for path in ("/api/v1/conversations", "/api/v1/nope", f"/api/v1/conversations/{conversation.pk}"):
        assert "no-store" in client.get(path, **auth)["Cache-Control"]
    assert "no-store" in client.get("/api/v1/conversations")["Cache-Control"]  # a 401 too


def test_the_openapi_document_lists_the_error_responses(client, agent):
    schema = client.get("/api/v1/openapi.json", **bearer(agent)).json()
    conversation_paths = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/v1/conversations")}
    assert "/api/v1/conversations/{conversation_id}/labels/{name}" in conversation_paths
    checked = 0
    for path, operations in conversation_paths.items():
        for method, operation in operations.items():
            if (path, method) == ("/api/v1/conversations/{conversation_id}/messages", "post"):
                continue  # the sending handler belongs to the lead's work (see the report)
            documented = set(operation["responses"])
            assert {"401", "403", "404", "422"} <= documented, (method, path, documented)
            if method != "get":
                assert "409" in documented, (method, path)
            error = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiErrorOut"}
            checked += 1
    assert checked >= 9
    assert schema["components"]["schemas"]["ApiErrorOut"]["required"] == ["error"]


def test_the_api_docs_need_a_sign_in_unless_public(client, settings, agent):
    settings.API_DOCS_PUBLIC = False
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 302 and "/login/" in docs["Location"]
    assert client.get("/api/v1/openapi.json", **bearer(agent)).status_code == 200
    client.force_login(agent)
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    client.logout()
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_an_unexpected_failure_is_logged_and_answered_in_the_error_shape(rf, caplog):
    from config.api import api

    request = rf.get("/api/v1/conversations")
    response = api.on_exception(request, RuntimeError("a bug"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert "a bug" not in response.content.decode()
    assert "a bug" in caplog.text


def test_database_errors_keep_their_own_answer(rf):
    from django.db import OperationalError

    from config.api import api

    response = api.on_exception(rf.get("/api/v1/conversations"), OperationalError("server closed the connection"))
    assert response.status_code == 503
    assert response["Retry-After"]
