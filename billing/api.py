"""The billing endpoints of the JSON API (DESIGN.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["billing"])
