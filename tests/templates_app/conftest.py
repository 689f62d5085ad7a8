"""Templates in Meta's JSON, a second admin for four-eyes, and parsed Meta webhooks."""

from __future__ import annotations

import copy
import json

import pytest
from django.utils import timezone

from inbox.services import user_create_or_update
from templates_app import services
from tests.conftest import PASSWORD
from whatsapp.schemas import iter_changes, parse_webhook

WABA = "102290129340398"

ORDER_UPDATE = {
    "name": "order_update",
    "language": "de",
    "category": "UTILITY",
    "parameter_format": "named",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Bestellung {{order_id}}",
            "example": {"header_text_named_params": [{"param_name": "order_id", "example": "1042"}]},
        },
        {
            "type": "BODY",
            "text": "Hallo {{first_name}}, deine Bestellung ist unterwegs.",
            "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Anna"}]},
        },
        {"type": "FOOTER", "text": "Antworte STOP zum Abmelden"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Keine Werbung"},
                {
                    "type": "URL",
                    "text": "Verfolgen",
                    "url": "https://shop.example/t/{{1}}",
                    "example": ["https://shop.example/t/1042"],
                },
            ],
        },
    ],
}

SHIPPING = {
    "name": "shipping_notice",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {
            "type": "BODY",
            "text": "Hello {{1}}, your order {{2}} is on its way.",
            "example": {"body_text": [["Anna", "#1042"]]},
        }
    ],
}


def tpl(base: dict = SHIPPING, **changes) -> dict:
    data = copy.deepcopy(base)
    data.update(changes)
    return data


@pytest.fixture
def reviewer(db):
    return user_create_or_update(username="rita", role="admin", password=PASSWORD)


def created(author, data=SHIPPING, *, submit=True, waba_id=WABA):
    return services.template_create(author=author, waba_id=waba_id, data=tpl(data), now=timezone.now(), submit=submit)


def envelope(field: str, value: dict, *, waba_id: str = WABA, at: int | None = None) -> bytes:
    entry = {"id": waba_id, "changes": [{"field": field, "value": value}]}
    if at is not None:
        entry["time"] = at
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def change_of(field: str, value: dict, **kwargs):
    """The typed change whatsapp.schemas makes of a real-shaped webhook body."""
    return next(iter_changes(parse_webhook(envelope(field, value, **kwargs))))


from tests.simulator.conftest import make_sim, receiver  # noqa: E402,F401  (the real simulator)


def apply_posted(sink, *, start: int = 0) -> int:
    """Apply the template webhooks the simulator really posted (bytes as sent, parsed by whatsapp.schemas),
    with Meta's entry time; returns how many requests there were, to start from next time."""
    from datetime import UTC, datetime

    from whatsapp.schemas import TemplateCategoryChange, TemplateQualityChange, TemplateStatusChange

    appliers = {
        TemplateStatusChange: services.template_status_apply,
        TemplateQualityChange: services.template_quality_apply,
        TemplateCategoryChange: services.template_category_apply,
    }
    requests = list(sink.requests)
    for _headers, body in requests[start:]:
        envelope = parse_webhook(body)
        for entry in envelope.entry:
            at = datetime.fromtimestamp(entry.time, tz=UTC) if entry.time else None
            for change in iter_changes(envelope.model_copy(update={"entry": [entry]})):
                apply = appliers.get(type(change))
                if apply is not None:
                    apply(change=change, now=timezone.now(), at=at)
    return len(requests)
