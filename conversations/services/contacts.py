"""Contacts: markets, identity lookup, opt-out keywords and buttons, opt in and out, and Meta's
marketing preferences (the `user_preferences` webhook)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction

from conversations import events
from conversations.models import Contact, Conversation
from conversations.services._common import _require_aware

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "STOPP", "ABMELDEN", "UNSUBSCRIBE", "PARAR", "SAIR")
# Quick-reply buttons on marketing templates that mean "stop" (payload or title).
DEFAULT_OPT_OUT_BUTTONS = ("STOP_PROMO", "STOP_PROMOTIONS", "Stop promotions", "Werbung stoppen")


def market_for(*, wa_id: str = "", user_id: str = "") -> str:
    """ISO region of the phone number's country calling code; BSUIDs carry it as a prefix ("DE.…")."""
    if wa_id:
        try:
            parsed = phonenumbers.parse(f"+{wa_id.lstrip('+')}")
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            region = phonenumbers.region_code_for_number(parsed)
            if not region or region == "001":
                # Not a valid number for any region: fall back to the calling code's main region.
                region = phonenumbers.region_code_for_country_code(parsed.country_code)
            if region and region not in ("ZZ", "001"):
                return region
    match = re.match(r"^([A-Z]{2})\.", user_id or "")
    return match.group(1) if match else ""


def _contact_find(*, wa_id: str, user_id: str) -> Contact | None:
    # The BSUID is the stable identity from 2026; a phone number can change hands.
    if user_id:
        contact = Contact.objects.filter(user_id=user_id).first()
        if contact is not None:
            return contact
    if wa_id:
        return Contact.objects.filter(wa_id=wa_id).first()
    return None


def contact_for_identity(*, wa_id: str | None, user_id: str | None, name: str = "", username: str = "") -> Contact:
    """The contact for Meta's identity (BSUID first, then phone number), created or completed."""
    # Cut to their columns: an odd value is never a reason to lose the message (its raw part
    # keeps what Meta sent, whole).
    wa_id = (wa_id or "").lstrip("+")[: Contact._meta.get_field("wa_id").max_length]
    user_id = (user_id or "")[: Contact._meta.get_field("user_id").max_length]
    name = (name or "")[: Contact._meta.get_field("profile_name").max_length]
    username = (username or "")[: Contact._meta.get_field("username").max_length]
    if not wa_id and not user_id:
        raise ValueError("a contact needs a wa_id or a user_id")
    contact = _contact_find(wa_id=wa_id, user_id=user_id)
    if contact is None:
        try:
            # A savepoint: two webhooks for the same new customer may race; the loser re-reads.
            with transaction.atomic():
                return Contact.objects.create(
                    wa_id=wa_id,
                    user_id=user_id,
                    profile_name=name or "",
                    username=username or "",
                    market=market_for(wa_id=wa_id, user_id=user_id),
                )
        except IntegrityError:
            contact = _contact_find(wa_id=wa_id, user_id=user_id)
            if contact is None:
                raise
    changed: list[str] = []
    # Store both identities once we know them, unless another contact already holds that one.
    if user_id and not contact.user_id and not Contact.objects.filter(user_id=user_id).exists():
        contact.user_id = user_id
        changed.append("user_id")
    # Same BSUID with a new phone number: the customer changed numbers.
    if (
        wa_id
        and contact.wa_id != wa_id
        and (not contact.wa_id or contact.user_id == user_id)
        and not Contact.objects.filter(wa_id=wa_id).exclude(pk=contact.pk).exists()
    ):
        contact.wa_id = wa_id
        changed.append("wa_id")
    if name and contact.profile_name != name:
        contact.profile_name = name
        changed.append("profile_name")
    if username and contact.username != username:
        contact.username = username
        changed.append("username")
    market = market_for(wa_id=contact.wa_id, user_id=contact.user_id)
    if market and contact.market != market:
        contact.market = market
        changed.append("market")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact


def _normalise_keyword(text: str) -> str:
    """ "  Abmelden! " -> "abmelden": case-folded, accents and surrounding punctuation dropped."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[\s_\-]+", " ", text)
    return re.sub(r"^[\W_]+|[\W_]+$", "", text).strip()


def is_opt_out_keyword(text: str) -> bool:
    keywords = getattr(settings, "CONVERSATIONS_OPT_OUT_KEYWORDS", DEFAULT_OPT_OUT_KEYWORDS)
    return bool(text) and _normalise_keyword(text) in {_normalise_keyword(k) for k in keywords}


def is_opt_out_button(*values: str) -> bool:
    buttons = getattr(settings, "CONVERSATIONS_OPT_OUT_BUTTONS", DEFAULT_OPT_OUT_BUTTONS)
    wanted = {_normalise_keyword(b) for b in buttons}
    return any(v and (_normalise_keyword(v) in wanted or is_opt_out_keyword(v)) for v in values)


def _message_asks_opt_out(message: Any) -> bool:
    if message.type == "text":
        return is_opt_out_keyword(message.text)
    raw = getattr(message, "raw", None) or {}
    if message.type == "button":
        button = raw.get("button") or {}
        return is_opt_out_button(button.get("payload", ""), button.get("text", ""), message.text)
    if message.type == "interactive":
        reply = (raw.get("interactive") or {}).get("button_reply") or {}
        return is_opt_out_button(reply.get("id", ""), reply.get("title", ""))
    return False


def contact_opt_out(*, contact: Contact, source: str, at: datetime) -> bool:
    """Mark the contact opted out of marketing; the first opt-out's time and source are kept."""
    _require_aware(at, "at")
    if contact.marketing_opted_out_at is not None:
        return False
    contact.marketing_opted_out_at = at
    contact.marketing_opt_out_source = source
    contact.save(update_fields=["marketing_opted_out_at", "marketing_opt_out_source", "updated_at"])
    _contact_threads_changed(contact)
    return True


def contact_opt_in(*, contact: Contact, at: datetime) -> bool:
    """Clear the opt-out, unless it was recorded after `at` (a late resume must not undo a newer stop)."""
    _require_aware(at, "at")
    if contact.marketing_opted_out_at is None or contact.marketing_opted_out_at > at:
        return False
    contact.marketing_opted_out_at = None
    contact.marketing_opt_out_source = ""
    contact.save(update_fields=["marketing_opted_out_at", "marketing_opt_out_source", "updated_at"])
    _contact_threads_changed(contact)
    return True


def _contact_threads_changed(contact: Contact) -> None:
    for conversation in Conversation.objects.filter(contact=contact):
        events.conversation_changed(conversation)


@transaction.atomic
def contact_preference_apply(*, preference: Any) -> Contact | None:
    """Meta's `user_preferences` webhook: the customer stopped or resumed marketing in WhatsApp."""
    at = _require_aware(preference.timestamp, "preference.timestamp")
    wa_id, user_id = preference.wa_id or "", preference.user_id or ""
    if preference.value == "stop":
        if not wa_id and not user_id:
            return None
        # A stop from someone we never talked to is still remembered for future marketing.
        contact = contact_for_identity(wa_id=wa_id, user_id=user_id)
        contact_opt_out(contact=contact, source=Contact.OptOutSource.PREFERENCES, at=at)
        return contact
    contact = _contact_find(wa_id=wa_id.lstrip("+"), user_id=user_id)
    if contact is None:
        return None
    if preference.value == "resume":
        contact_opt_in(contact=contact, at=at)
    return contact
