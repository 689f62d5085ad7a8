"""Property: whatever a signed body holds, the endpoint answers without a 500 and stores it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webhooks import helpers as h
from webhooks.intake import dedupe_key
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

FIXTURES = [h.load(p) for p in h.PAYLOAD_FILES]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=30,
)
# Keys Meta uses, so mutations land on what the parser actually reads.
meta_keys = st.sampled_from(
    ["object", "entry", "id", "changes", "field", "value", "metadata", "phone_number_id", "messages", "statuses",
     "contacts", "from", "timestamp", "type", "text", "body", "status", "errors", "code", "pricing", "user_id",
     "wa_id", "image", "context", "reaction", "emoji", "user_preferences", "message_template_id"]
)  # fmt: skip

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _paths(node, prefix=()):
    """Every (container, key) position in a JSON document."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield node, key
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield node, index
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_payloads(draw, number):
    data = h.patch(draw(st.sampled_from(FIXTURES)), number)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        positions = list(_paths(data))
        if not positions:
            break
        container, key = draw(st.sampled_from(positions))
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            container[key] = draw(json_values)
        elif action == "delete":
            del container[key]
        elif action == "add" and isinstance(container, dict):
            container[draw(meta_keys)] = draw(json_values)
        elif action == "duplicate" and isinstance(container, list):
            container.append(container[key])
    return data


def _post_and_check(client, body: bytes, capture) -> None:
    with capture(execute=True):
        response = h.post(client, body)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(dedupe_key=dedupe_key(body))
    # Processing ran to an end state: a crash would have rolled back and left it "received".
    assert event.state != WebhookEvent.State.RECEIVED


def test_arbitrary_json_at_the_signed_endpoint(client, number, django_capture_on_commit_callbacks):
    bodies: set[bytes] = set()

    @SETTINGS
    @given(value=json_values)
    def check(value):
        body = json.dumps(value).encode()
        bodies.add(body)
        _post_and_check(client, body, django_capture_on_commit_callbacks)

    check()
    assert WebhookEvent.objects.count() == len(bodies)


def test_arbitrary_bytes_at_the_signed_endpoint(client, number, django_capture_on_commit_callbacks):
    bodies: set[bytes] = set()

    @SETTINGS
    @given(body=st.binary(max_size=300))
    def check(body):
        bodies.add(body)
        _post_and_check(client, body, django_capture_on_commit_callbacks)

    check()
    assert WebhookEvent.objects.count() == len(bodies)


def test_mutated_real_payloads_at_the_signed_endpoint(client, number, django_capture_on_commit_callbacks, graph):
    bodies: set[bytes] = set()

    @settings(parent=SETTINGS, max_examples=250)
    @given(data=st.data())
    def check(data):
        body = json.dumps(data.draw(mutated_payloads(number)), ensure_ascii=data.draw(st.booleans())).encode()
        bodies.add(body)
        _post_and_check(client, body, django_capture_on_commit_callbacks)

    check()
    assert WebhookEvent.objects.count() == len(bodies)
