"""A demo webhook event for seed_demo: one an admin has to look at (a number not added yet)."""

from __future__ import annotations

import json

from webhooks import intake, processing

# A customer writing to a number Meta routes to this app but nobody added with add_number:
# the event is kept and flagged, and /admin/ says what to do.
UNKNOWN_NUMBER_EVENT = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "200000000000009",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "4940999999", "phone_number_id": "100000000000009"},
                        "contacts": [{"profile": {"name": "Lukas Brandt"}, "wa_id": "4917055500099"}],
                        "messages": [
                            {
                                "from": "4917055500099",
                                "id": "wamid.DEMO-UNKNOWN-NUMBER-1",
                                "timestamp": "1790417200",
                                "type": "text",
                                "text": {"body": "Hallo, ist das der Kundenservice Hamburg?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


def seed_events(*, stdout) -> None:
    """Store and process the demo event (the same body twice is one event: idempotent)."""
    body = json.dumps(UNKNOWN_NUMBER_EVENT, separators=(",", ":")).encode()
    event_id, created = intake.event_store(body=body, headers={"Content-Type": "application/json"})
    if created and event_id is not None:
        processing.event_process(event_id=event_id)
