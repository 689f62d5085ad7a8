"""The number as Meta shows it (GET /{phone_number_id}) and Meta's phone_number_quality_update."""

from __future__ import annotations

import requests

from whatsapp import schemas
from whatsapp.client import CloudApiClient

from .helpers import PNID, TOKEN, WABA, wait_for


def test_the_number_answers_with_its_quality_and_limit_to_the_client(sim):
    client = CloudApiClient(base_url=sim.url, version="v26.0", token=TOKEN, timeout=5)
    info = client.phone_number_info(phone_number_id=PNID)
    assert info["id"] == PNID and info["display_phone_number"] == "49301234567"
    assert (info["quality_rating"], info["messaging_limit_tier"]) == ("GREEN", "TIER_2K")


def test_meta_lowering_the_limit_sends_the_webhook_and_the_number_shows_it(sim, receiver, graph):
    answer = requests.post(
        f"{sim.url}/_sim/number_quality",
        json={"phone_number_id": PNID, "event": "downgrade", "limit": "tier_250", "rating": "yellow"},
        timeout=5,
    )
    assert answer.status_code == 200
    body = wait_for(
        lambda: next((p for p in receiver.payloads if "phone_number_quality_update" in str(p)), None),
        what="the quality webhook",
    )
    [change] = list(schemas.iter_changes(schemas.Envelope.model_validate(body)))
    assert isinstance(change, schemas.NumberQualityChange)
    assert (change.waba_id, change.display_phone_number, change.event) == (WABA, "49301234567", "DOWNGRADE")
    assert (change.limit, change.old_limit) == ("TIER_250", "TIER_2K") and change.meta_time is not None
    info = graph.get(PNID).json()
    assert (info["quality_rating"], info["messaging_limit_tier"]) == ("YELLOW", "TIER_250")
    assert requests.post(f"{sim.url}/_sim/number_quality", json={}, timeout=5).status_code == 400
