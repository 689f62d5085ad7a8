"""Meta's webhook endpoint: GET verifies the subscription, POST stores a delivery.

POST does the least possible before answering: size check, signature over the raw bytes, one
INSERT, 200. Processing runs in a Celery task queued on commit. Nothing a sender puts in the
body can make this view answer 500; Meta would retry such a delivery for 7 days.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from webhooks import intake
from webhooks.models import WebhookEvent
from whatsapp import schemas, signature

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verify(request)
    return _receive(request)


def _verify(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")
    logger.warning("webhook verification refused (mode=%r)", mode[:20])
    return HttpResponse("Forbidden", status=403, content_type="text/plain")


def _receive(request: HttpRequest) -> HttpResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return HttpResponse("Payload Too Large", status=413, content_type="text/plain")
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("Payload Too Large", status=413, content_type="text/plain")
    if len(body) > limit:
        return HttpResponse("Payload Too Large", status=413, content_type="text/plain")

    if not signature.verify(body, request.headers.get("X-Hub-Signature-256"), settings.WHATSAPP_APP_SECRET):
        intake.signature_refusal_record()
        logger.warning("webhook refused: missing or wrong X-Hub-Signature-256 (%d bytes)", len(body))
        return HttpResponse("Unauthorized", status=401, content_type="text/plain")

    # A signed body that is not an envelope is stored as failed: an admin sees it, Meta does not
    # retry it for a week, and a parser fix can re-process it.
    state, reason = WebhookEvent.State.RECEIVED, ""
    try:
        schemas.parse_webhook(body)
    except schemas.PayloadError as exc:
        state, reason = WebhookEvent.State.FAILED, str(exc)

    try:
        with transaction.atomic():
            event_id, created = intake.event_store(
                body=body, headers=intake.headers_of_interest(request.headers), state=state, reason=reason
            )
            if state == WebhookEvent.State.RECEIVED and event_id is not None:
                # Also for a duplicate: if the first delivery's task was lost, this one recovers it.
                # Processing an event twice changes nothing.
                transaction.on_commit(lambda: _queue(event_id), robust=True)
    except DatabaseError:
        # Not stored: answer an error so Meta retries later (it does, for 7 days).
        logger.exception("webhook not stored")
        return HttpResponse("Service Unavailable", status=503, content_type="text/plain")
    if not created:
        logger.info("webhook %s delivered again", event_id)
    return HttpResponse("OK", content_type="text/plain")


def _queue(event_id: int) -> None:
    from webhooks.tasks import webhook_event_process

    webhook_event_process.delay(event_id)
