"""Canned responses: saved texts agents insert with a /shortcut."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from conversations.exceptions import ConversationError
from conversations.models import CannedResponse

_SHORTCUT = re.compile(r"^/([\w-]+)(?=\s|$)")


def canned_expand(*, text: str) -> str:
    """`/refund thanks!` -> the saved "refund" text followed by " thanks!"; unknown shortcuts stay."""
    match = _SHORTCUT.match(text or "")
    if match is None:
        return text
    canned = CannedResponse.objects.filter(shortcut=match.group(1).lower()).first()
    if canned is None:
        return text
    return canned.text + text[match.end() :]


@transaction.atomic
def canned_response_save(*, shortcut: str, text: str) -> CannedResponse:

    slug = slugify(shortcut.lstrip("/"))
    if not slug or not text.strip():
        raise ConversationError(_("A canned response needs a shortcut and a text."))
    canned, _created = CannedResponse.objects.update_or_create(shortcut=slug, defaults={"text": text.strip()})
    return canned
