"""Thin tasks: the Meta calls of the template workflow, and the periodic sync."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from templates_app import services
from templates_app.models import Template, TemplateVersion
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

log = logging.getLogger(__name__)

MAX_RETRIES = 5


def get_client():
    # Looked up at call time so tests can point settings at a simulator (the one seam).
    from whatsapp import client

    return client.get_client()


def _submit(client, template: Template, version: TemplateVersion) -> dict:
    body = services.meta_json(template=template, version=version)
    if template.meta_template_id:
        # An edit of a template Meta already has: POST /{template_id} with the new content.
        payload = {"category": body["category"], "components": body["components"]}
        answer = client.template_edit(template_id=template.meta_template_id, template=payload)
        return {"id": template.meta_template_id, "status": answer.get("status") or "PENDING", **answer}
    return client.template_create(waba_id=template.waba_id, template=body)


@shared_task(bind=True, max_retries=MAX_RETRIES)
def template_submit_to_meta(self, version_id: int) -> None:
    """Submit one internally approved version to Meta, and record Meta's answer or refusal."""
    version = TemplateVersion.objects.select_related("template").filter(pk=version_id).first()
    if version is None or version.state != TemplateVersion.State.APPROVED or version.meta_submitted_at is not None:
        return
    seen_seq = version.template.meta_status_seq
    try:
        answer = _submit(get_client(), version.template, version)
    except CloudApiError as exc:
        if exc.transient and not exc.maybe_delivered and self.request.retries < MAX_RETRIES:
            raise self.retry(countdown=backoff_delay(self.request.retries, base=5.0)) from None
        message = exc.details or exc.title or str(exc)
        if exc.title and exc.details and exc.title not in exc.details:
            message = f"{exc.title}: {exc.details}"
        services.template_meta_refused(version_id=version_id, message=message, code=exc.code, now=timezone.now())
        return
    services.template_meta_submitted(version_id=version_id, answer=answer, now=timezone.now(), seen_seq=seen_seq)


@shared_task
def templates_sync_all() -> dict:
    """Every WABA we have numbers or templates for (beat, every 15 minutes)."""
    from conversations.models import BusinessNumber

    waba_ids = set(BusinessNumber.objects.values_list("waba_id", flat=True))
    waba_ids |= set(Template.objects.values_list("waba_id", flat=True))
    totals = {"imported": 0, "updated": 0, "failed": 0}
    for waba_id in sorted(w for w in waba_ids if w):
        try:
            result = services.templates_sync(waba_id=waba_id, now=timezone.now())
        except CloudApiError as exc:
            log.warning("templates sync of WABA %s failed: %s", waba_id, exc)
            totals["failed"] += 1
            continue
        totals["imported"] += result.imported
        totals["updated"] += result.updated
    return totals
