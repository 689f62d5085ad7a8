from __future__ import annotations

import pytest

from tests.whatsapp.fake_graph import FakeGraph

TOKEN = "EAAG-test-token-5f1c9a7e-never-log-me"


@pytest.fixture
def graph(settings):
    """A fake Graph API on a free port; settings point the client at it."""
    server = FakeGraph().start()
    settings.WHATSAPP_GRAPH_URL = server.url
    settings.WHATSAPP_API_VERSION = "v26.0"
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN
    settings.WHATSAPP_HTTP_TIMEOUT = 2
    yield server
    server.stop()
