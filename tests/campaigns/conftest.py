from __future__ import annotations

from tests.conversations.conftest import fake_client  # noqa: F401  (the counting Cloud API fake)
