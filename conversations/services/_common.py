"""Helpers every part of the conversations services shares."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def _require_aware(value: datetime, name: str) -> datetime:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be an aware datetime")
    return value


def _now(now: datetime | None) -> datetime:
    return _require_aware(now, "now") if now is not None else timezone.now()
