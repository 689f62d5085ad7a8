"""Inputs the schema-driven run (test_api_schema_fuzz.py) found answered outside the contract.

Each was a 500 or a status no endpoint documents; each now answers 422 validation_error, and the
OpenAPI document says what is accepted.
"""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from tests.conversations.conftest import bearer

pytestmark = pytest.mark.django_db


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_a_body_that_is_not_json_is_a_422_validation_error(client, finance):
    response = client.post("/api/v1/billing/quote", b"\x00", content_type="application/json", **bearer(finance))
    assert error_of(response, 422)["code"] == "validation_error"


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-08&category=%00",
        "month=2026-08&state=a%00b",
        "month=2026-08&number=%00",
        "month=2026-08&template=x%00",
        "month=9999-12",  # no month after it to end the range at
        "month=2026-13",
        "month=2026-08&limit=0",
        "month=2026-08&limit=501",
    ],
)
def test_billing_records_refuse_what_postgresql_or_the_calendar_cannot_take(client, finance, query):
    response = client.get(f"/api/v1/billing/records?{query}", **bearer(finance))
    assert error_of(response, 422)["code"] == "validation_error"


@pytest.mark.parametrize("query", ["month=9999-12", "month=2026-08&number=%00"])
def test_billing_summary_refuses_them_too(client, finance, query):
    response = client.get(f"/api/v1/billing/summary?{query}", **bearer(finance))
    assert error_of(response, 422)["code"] == "validation_error"


@pytest.mark.parametrize("param", ["category", "status", "language", "waba_id"])
def test_template_filters_with_a_nul_are_refused(client, admin_user, param):
    response = client.get(f"/api/v1/templates?{param}=a%00", **bearer(admin_user))
    assert error_of(response, 422)["code"] == "validation_error"


def test_the_schema_says_what_the_handlers_accept(client, agent):
    schema = client.get("/api/v1/openapi.json", **bearer(agent)).json()

    def query_param(path, name):
        params = schema["paths"][path]["get"]["parameters"]
        found = next(p["schema"] for p in params if p["name"] == name)
        return next((option for option in found.get("anyOf", []) if option["type"] != "null"), found)

    assert query_param("/api/v1/billing/summary", "month")["pattern"]
    assert query_param("/api/v1/billing/records", "limit")["maximum"] == 500
    assert query_param("/api/v1/templates", "cursor")["pattern"] == "^[0-9]{1,18}$"
    assert query_param("/api/v1/conversations", "assignee")["pattern"] == "^(me|none|[0-9]{1,18})$"
    quote = schema["components"]["schemas"]["QuoteIn"]
    assert [option["required"] for option in quote["anyOf"]] == [["conversation_id"], ["to"]]
    assert schema["components"]["schemas"]["CallbackIn"]["properties"]["url"]["pattern"].startswith("^https?://")


def test_a_path_with_a_newline_is_still_the_json_404(client, agent):
    response = client.delete("/api/v1/conversations/1/labels/a%0Ab", **bearer(agent))
    assert error_of(response, 404)["code"] == "not_found"


def _is_text(prop: dict) -> bool:
    return prop.get("type") == "string" or any(o.get("type") == "string" for o in prop.get("anyOf", []))


def test_no_text_input_with_a_nul_character_is_a_server_error(client, number):
    """Every text query parameter and body field of every operation, with a NUL inside (PostgreSQL
    refuses it in a query): refused in the error shape, never a 500."""
    from django.contrib.auth import get_user_model

    from tests.conftest import PASSWORD
    from tests.conversations.conftest import receive

    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    auth = bearer(root)
    conversation = receive(number, at=timezone.now()).conversation
    schema = client.get("/api/v1/openapi.json", **auth).json()
    components = schema["components"]["schemas"]
    nul = "a\x00b"
    sent = 0
    for path, item in schema["paths"].items():
        url = path.replace("{conversation_id}", str(conversation.pk)).replace("{name}", "vip")
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        for method, operation in item.items():
            texts = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and _is_text(p["schema"])]
            for name in texts:
                query = {p["name"]: "2026-08" for p in operation["parameters"] if p["name"] == "month"}
                response = getattr(client, method)(url, {**query, name: nul} if method == "get" else None, **auth)
                if method != "get":
                    response = getattr(client, method)(f"{url}?{name}=a%00b", **auth)
                assert response.status_code < 500, (method, path, name, response.content[:200])
                sent += 1
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                properties = components[body["$ref"].rsplit("/", 1)[1]].get("properties", {})
                for name, prop in properties.items():
                    if _is_text(prop):
                        payload = {key: "1" for key, p in properties.items() if _is_text(p)} | {name: nul}
                        response = getattr(client, method)(url, payload, content_type="application/json", **auth)
                        assert response.status_code < 500, (method, path, name, response.content[:200])
                        assert "error" in response.json() or response.status_code < 400
                        sent += 1
    assert sent > 30


def test_a_value_the_database_refuses_is_a_422_not_a_500(rf):
    from django.db import DataError

    from config.api import api

    response = api.on_exception(rf.post("/api/v1/x"), DataError("text fields cannot contain NUL (0x00) bytes"))
    assert response.status_code == 422
    assert json.loads(response.content)["error"]["code"] == "validation_error"
