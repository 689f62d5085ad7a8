"""Schema-driven requests to every API operation (issue 7, item 9): schemathesis generates them
from our own OpenAPI document and sends them, with a valid token, to the real Django app.

Each answer must keep the contract: never a 5xx, a status the document lists, a body that matches
the documented schema, and every error in the one shape {"error": {"code", "message", ...}}.
Bounded (MAX_EXAMPLES per operation, positive and negative inputs mixed) so it runs in about a minute.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from config.api import api
from tests.conftest import PASSWORD
from tests.conversations.conftest import receive
from tests.conversations.test_send_template import ORDER_UPDATE, _template

pytestmark = pytest.mark.django_db

# Per operation; API_FUZZ_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
OPENAPI = api.get_openapi_schema(path_prefix="/api/v1/")
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in OPENAPI["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


@pytest.fixture
def in_test_transaction():
    """Requests share the test's connection and transaction, as Django's test Client arranges:
    the WSGI handler would otherwise close that connection after each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def schema():
    loaded = schemathesis.openapi.from_dict(OPENAPI)
    loaded.app = get_wsgi_application()
    return loaded


@pytest.fixture
def world(number):
    """Real objects for the generated requests to find: without them every id is a 404."""
    from inbox.services import api_token_create

    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    conversation = receive(number, at=timezone.now() - timedelta(hours=1)).conversation
    template = _template(
        number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named"
    )
    _token, raw = api_token_create(user=root)
    return {
        "headers": {"Authorization": f"Bearer {raw}"},
        "ids": {"conversation_id": conversation.pk, "template_id": template.pk},
    }


def _takes_input(operation: dict) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def _error_shape(response) -> None:
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error


def _depends_on_state(error: dict) -> bool:
    """A 422 that schema-valid input may rightly get, because no schema can know the answer.

    Anything else that the schema allows but the handler refuses is a defect: the schema must
    say it (a pattern, a range, a required field), and ST202 reports it.
    """
    fields = error.get("fields") if isinstance(error.get("fields"), dict) else {}
    return (
        # An opaque cursor only the server makes: a made-up one is not one.
        fields.get("cursor") == "invalid"
        # It names a template, number, message or user that does not exist here.
        or "unknown" in fields.values()
        or error["message"] == "No such user."
        # Whether a number is possible depends on its country's numbering plan.
        or fields.get("to") == "invalid"
        # Meta's rules for a template's content and its parameters, checked by the services.
        or "problems" in error
        or error["code"] == "invalid_parameters"
        # A reply is a text or a template, not both and not neither (JSON Schema cannot say
        # "exactly one of two optional fields" in a way generators respect).
        or fields.get("text") in ("required", "extra")
        # A character WhatsApp cannot carry (NUL, a lone surrogate): a rule of the message text.
        or error["message"] == "The message contains a character that cannot be sent."
        # A label name that is empty once control characters are taken out.
        or error["message"] == "A label needs a name."
        # Snoozing needs a time in the future: what "future" is depends on the clock.
        or error["message"] == "Snooze until a time in the future."
        # Snoozing needs a time; other statuses do not (the same kind of rule across two fields).
        or error["message"] == "Choose until when to snooze."
    )


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_generated_requests_keep_the_contract(schema, world, in_test_transaction, path, method):
    operation = schema[path][method]
    known = {k: v for k, v in world["ids"].items() if "{" + k + "}" in path}
    strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

    @settings(
        # An operation without input has one request to make; Hypothesis would search long for more.
        max_examples=MAX_EXAMPLES if _takes_input(OPENAPI["paths"][path][method.lower()]) else 1,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run and machine: a failure reproduces
        # No shrinking: it can take minutes; schemathesis already prints a curl line that reproduces.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(headers=world["headers"])
        _error_shape(response)
        excluded = []
        if response.status_code == 422 and _depends_on_state(response.json()["error"]):
            excluded.append(positive_data_acceptance)
        if any(isinstance(value, list) for value in (case.query or {}).values()):
            # A repeated scalar parameter (?status=a&status=b): Django reads its last value, as
            # every Django view does; accepting it is not a breach of the contract.
            excluded.append(negative_data_rejection)
        case.validate_response(response, headers=world["headers"], excluded_checks=excluded)

    run()
