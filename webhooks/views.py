"""Meta's webhook endpoint: GET verifies the subscription, POST stores a delivery.

POST does the least possible before answering: size check, signature over the raw bytes, one
INSERT, 200. The stored events are the queue of `manage.py process_webhooks` (webhooks.processor);
only the single-process default applies the event in the request, after storing it. Nothing a sender puts in the
body can make this view answer 500; Meta would retry such a delivery for 7 days.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from webhooks import intake, processing
from whatsapp import signature

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

    # Not parsed here: a signed body that is not an envelope is stored all the same, and the
    # processor marks it failed for an admin (Meta does not retry it; a parser fix can re-apply it).
    try:
        event_id, created = intake.event_store(body=body, headers=intake.headers_of_interest(request.headers))
    except DatabaseError:
        # Not stored: answer an error so Meta retries later (it does, for 7 days).
        logger.exception("webhook not stored")
        return HttpResponse("Service Unavailable", status=503, content_type="text/plain")
    if not created:
        logger.info("webhook %s delivered again", event_id)
    elif settings.WEBHOOKS_PROCESS_INLINE:
        # No processor runs in the single-process default: apply it here, now that it is stored.
        _process_inline(event_id)
    return HttpResponse("OK", content_type="text/plain")


def _process_inline(event_id: int) -> None:
    try:
        processing.event_process(event_id=event_id)
    except Exception:  # stored is what Meta needs to hear about; the event stays for a re-process
        logger.exception("webhook %s stored, but applying it failed", event_id)
