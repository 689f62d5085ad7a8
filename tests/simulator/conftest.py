"""A real simulator on a free port, and a real HTTP receiver standing in for the inbox's webhook."""

from __future__ import annotations

import pytest

from whatsapp.simulator.server import Simulator

from .helpers import APP_SECRET, PNID, TOKEN, WABA, Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def make_sim(receiver):
    started: list[Simulator] = []

    def make(**options) -> Simulator:
        options = {
            "webhook_url": receiver.url,
            "app_secret": APP_SECRET,
            "access_token": TOKEN,
            "status_delay": 0.0,
            "template_review_delay": 0.05,
            "numbers": {PNID: {"display_phone_number": "+49 30 1234567", "waba_id": WABA}},
            **options,
        }
        sim = Simulator(**options).start(port=0)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def graph(sim):
    """POST/GET/DELETE against the simulator's Graph API with the right token."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"

    class Graph:
        url = f"{sim.url}/v26.0"

        def post(self, path, **kwargs):
            return session.post(f"{self.url}/{path}", timeout=5, **kwargs)

        def get(self, path, **kwargs):
            return session.get(f"{self.url}/{path}", timeout=5, **kwargs)

        def delete(self, path, **kwargs):
            return session.delete(f"{self.url}/{path}", timeout=5, **kwargs)

        def send(self, payload, pnid=PNID):
            return self.post(f"{pnid}/messages", json={"messaging_product": "whatsapp", **payload})

    yield Graph()
    session.close()
