"""Meta's webhook signature: HMAC-SHA256 of the raw body bytes, keyed with the App Secret.

Verify before parsing: re-serialising the JSON would change the bytes and break the match.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta would send for this body."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is the signature of `body`; compared in constant time.

    An empty secret never verifies: a deployment without WHATSAPP_APP_SECRET must refuse
    everything rather than accept unsigned events.
    """
    if not secret or not header or not header.startswith(PREFIX):
        return False
    expected = sign(body, secret)
    # compare_digest needs both sides to be ASCII str (or bytes); a header with other
    # characters is simply wrong.
    try:
        return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii"))
    except UnicodeEncodeError:
        return False
