from __future__ import annotations

import pytest

from tests.whatsapp.conftest import graph  # noqa: F401  (the fake Graph API fixture)


@pytest.fixture(autouse=True)
def _media_from_fake_graph(graph):  # noqa: F811
    """Inbound media is downloaded on commit; never let that reach a real host in these tests."""
    return graph
