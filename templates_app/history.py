"""History rows: who did what to a template and when, and each Meta verdict that changed something."""

from __future__ import annotations

from datetime import datetime

from templates_app.models import Template, TemplateEvent, TemplateVersion


def event_add(
    template: Template,
    kind: str,
    *,
    at: datetime,
    version: TemplateVersion | None = None,
    actor=None,
    from_value: str = "",
    to_value: str = "",
    detail: dict | None = None,
) -> TemplateEvent:
    return TemplateEvent.objects.create(
        template=template,
        version=version,
        kind=kind,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        from_value=(from_value or "")[:64],
        to_value=(to_value or "")[:64],
        detail=detail or {},
        at=at,
    )
