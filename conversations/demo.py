"""Demo contacts and chats for seed_demo."""

from __future__ import annotations


def seed_conversations(*, stdout) -> None:
    """Extended by the conversations work; the foundation seeds no chats yet."""
