"""The OpenAPI document tells every error answer, all in the one error shape (issue 7, item 9).

Walks /api/v1/openapi.json: a client generated from it (or schemathesis) must know every status
an endpoint can answer, and that each error answer is {"error": {"code", "message", ...}}.
"""

from __future__ import annotations

import pytest

from tests.conversations.conftest import bearer

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/ApiErrorOut"}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client, agent) -> dict:
    return client.get("/api/v1/openapi.json", **bearer(agent)).json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _takes_input(operation: dict) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def test_every_operation_documents_its_error_answers(schema):
    seen = set()
    for method, path, operation in operations(schema):
        documented = set(operation["responses"])
        seen.add(path)
        # Anyone may call without a token, and any query may meet a database that is down.
        assert {"401", "503"} <= documented, (method, path, sorted(documented))
        if _takes_input(operation):
            assert "422" in documented, (method, path, sorted(documented))
        if "{" in path:  # an id in the path may name nothing (or nothing the caller may see)
            assert "404" in documented, (method, path, sorted(documented))
        successes = [code for code in documented if code.startswith("2")]
        assert len(successes) == 1, (method, path, sorted(documented))
        if successes != ["204"]:
            assert operation["responses"][successes[0]].get("content"), (method, path, "success without a schema")
    # Every router is in the walk, billing too.
    for prefix in ("/api/v1/me", "/api/v1/conversations", "/api/v1/search", "/api/v1/templates"):
        assert any(p.startswith(prefix) for p in seen), prefix
    for prefix in ("/api/v1/billing/summary", "/api/v1/billing/records", "/api/v1/billing/quote"):
        assert prefix in seen, prefix
    assert any(p.startswith("/api/v1/notifications") for p in seen)
    assert any(p.startswith("/api/v1/callbacks") for p in seen)


def test_every_error_answer_is_the_one_error_schema(schema):
    checked = 0
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, status)
            checked += 1
    assert checked > 60
    # One definition: no second error schema hides under another name (ApiErrorOut2, ...).
    components = schema["components"]["schemas"]
    shaped_like_errors = sorted(
        name for name, body in components.items() if set(body.get("properties", {})) == {"error"}
    )
    assert shaped_like_errors == ["ApiErrorOut"]
    assert components["ApiErrorOut"]["required"] == ["error"]
    detail = components[components["ApiErrorOut"]["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(detail["required"]) == {"code", "message"}
    assert detail.get("additionalProperties", True) is not False  # details beside code and message


def test_conflicts_and_spent_budgets_are_documented_where_they_happen(schema):
    responses = {(m, p): set(op["responses"]) for m, p, op in operations(schema)}
    for key in [
        ("POST", "/api/v1/conversations/{conversation_id}/messages"),
        ("POST", "/api/v1/notifications"),
    ]:
        assert {"402", "409"} <= responses[key], key
    for key in [
        ("POST", "/api/v1/templates/{template_id}/approve"),
        ("POST", "/api/v1/templates/{template_id}/reject"),
        ("POST", "/api/v1/conversations/{conversation_id}/status"),
    ]:
        assert "409" in responses[key], key
