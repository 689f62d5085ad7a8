"""Meta's error codes, classified in one place (cloud-api.md section 4.2).

Each code is transient (retry with backoff), permanent for that message (show the reason to the
agent), or stops the channel (the token or the account is unusable, every further send fails).
Callers decide what to do from `CloudApiError.transient` and `.stops_channel`, never from codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class Kind(enum.Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    STOPS_CHANNEL = "stops_channel"


@dataclass(frozen=True)
class ErrorClass:
    kind: Kind
    reason: str  # plain words for agents, lazily translated
    # Seconds to wait before trying again at all (131049: Meta blocks retries within 24 h).
    defer_seconds: int | None = None
    # What the refusal tells us beyond this message (the services act on these, never on codes):
    closes_window: bool = False  # the customer service window is closed, whatever we computed
    stops_marketing: bool = False  # the customer stopped marketing from this business
    stops_template: bool = False  # the template was paused or disabled since we checked it
    slows_number: bool = False  # over the number's throughput: pace the number slower
    slows_customer: bool = False  # over the pair rate limit: wait before writing this customer again


T, P, S = Kind.TRANSIENT, Kind.PERMANENT, Kind.STOPS_CHANNEL

ERRORS: dict[int, ErrorClass] = {
    # Auth and permissions.
    0: ErrorClass(P, _("WhatsApp refused our credentials.")),
    3: ErrorClass(P, _("This WhatsApp account lacks the capability for this action.")),
    10: ErrorClass(P, _("Permission denied by WhatsApp.")),
    190: ErrorClass(S, _("The WhatsApp access token expired or is invalid; an admin must renew it.")),
    131005: ErrorClass(P, _("Access denied by WhatsApp.")),
    # Rate limits.
    4: ErrorClass(T, _("Too many calls to WhatsApp; retrying shortly.")),
    80007: ErrorClass(T, _("The WhatsApp account hit its rate limit; retrying shortly.")),
    130429: ErrorClass(T, _("Sending too fast for this number; retrying shortly."), slows_number=True),
    131048: ErrorClass(P, _("WhatsApp limited this number for spam reports; the message was not sent.")),
    131056: ErrorClass(
        T, _("Too many messages to this customer in a short time; retrying shortly."), slows_customer=True
    ),
    # Policy and account.
    368: ErrorClass(S, _("The business number is temporarily blocked for a policy violation.")),
    131031: ErrorClass(S, _("The WhatsApp business account is locked.")),
    130497: ErrorClass(P, _("This business may not message customers in this country.")),
    131042: ErrorClass(S, _("A payment problem with the WhatsApp account stops all sending.")),
    131037: ErrorClass(P, _("The business display name is not approved yet.")),
    133010: ErrorClass(P, _("The business number is not registered with WhatsApp.")),
    # Generic.
    1: ErrorClass(T, _("WhatsApp had an unknown problem; retrying.")),
    2: ErrorClass(T, _("WhatsApp is temporarily unavailable; retrying.")),
    100: ErrorClass(P, _("WhatsApp rejected a parameter of this message.")),
    131000: ErrorClass(T, _("Something went wrong at WhatsApp; retrying.")),
    131008: ErrorClass(P, _("A required part of the message was missing.")),
    131009: ErrorClass(P, _("A value in the message was not accepted (for example an old message to react to).")),
    131016: ErrorClass(T, _("The WhatsApp service is unavailable; retrying.")),
    131021: ErrorClass(P, _("The recipient is the business number itself.")),
    131057: ErrorClass(T, _("The business number is in maintenance; retrying.")),
    135000: ErrorClass(P, _("WhatsApp reported a generic error for this message.")),
    # Delivery.
    131026: ErrorClass(P, _("The message could not be delivered (not on WhatsApp, or an outdated app).")),
    131047: ErrorClass(
        P, _("More than 24 hours since the customer's last message: send a template instead."), closes_window=True
    ),
    131049: ErrorClass(
        P,
        _("WhatsApp held back this marketing message to limit what the customer receives; try again after 24 h."),
        defer_seconds=24 * 3600,
    ),
    131050: ErrorClass(P, _("The customer stopped marketing messages from this business."), stops_marketing=True),
    130472: ErrorClass(P, _("The customer's number is part of a WhatsApp experiment; the message was not sent.")),
    131051: ErrorClass(P, _("This message type is not supported.")),
    131052: ErrorClass(P, _("The customer's media could not be downloaded (too large or unavailable).")),
    131053: ErrorClass(P, _("The media could not be uploaded (unsupported type or format).")),
    131062: ErrorClass(P, _("This customer cannot receive this type of message.")),
    # Templates.
    132000: ErrorClass(P, _("The number of template parameters does not match the template.")),
    132001: ErrorClass(P, _("The template does not exist in this language or is not approved.")),
    132005: ErrorClass(P, _("The template text is too long once filled in.")),
    132007: ErrorClass(P, _("The template breaks WhatsApp's format or character rules.")),
    132012: ErrorClass(P, _("The template parameters have the wrong format.")),
    132015: ErrorClass(P, _("The template is paused for low quality."), stops_template=True),
    132016: ErrorClass(P, _("The template is disabled."), stops_template=True),
    132068: ErrorClass(P, _("The template's Flow is blocked.")),
    132069: ErrorClass(P, _("The template's Flow is throttled.")),
}

# 200-299 are "API permission" codes: permanent, same wording.
_API_PERMISSION = ErrorClass(P, _("The app lacks a WhatsApp API permission for this action."))
_UNKNOWN = ErrorClass(P, "")


def classify(code: int | None, http_status: int | None = None) -> ErrorClass:
    """The class of a Meta error code; without a code, judged by the HTTP status."""
    if code is not None:
        if code in ERRORS:
            return ERRORS[code]
        if 200 <= code <= 299:
            return _API_PERMISSION
        return _UNKNOWN
    # No Meta error body (a proxy, a timeout, an outage): 5xx and 429 are worth retrying.
    if http_status is None or http_status >= 500 or http_status in (408, 429):
        return ErrorClass(T, _("WhatsApp could not be reached; retrying."))
    return _UNKNOWN


def reason_for(code: int | None) -> str:
    """A plain-words reason for agents (translatable); never empty."""
    known = classify(code).reason if code is not None else ""
    if known:
        return known
    if code is None:
        return _("WhatsApp refused the message.")
    return format_lazy(_("WhatsApp refused the message (error {code})."), code=code)


class CloudApiError(Exception):
    """An error answer (or no answer) from the Cloud API.

    The message is built only from Meta's code, title and details, which the client redacts,
    so the access token never ends up in a log line or a traceback.
    """

    def __init__(
        self,
        *,
        code: int | None = None,
        title: str = "",
        details: str = "",
        http_status: int | None = None,
        transient: bool | None = None,
        maybe_delivered: bool = False,
        unreachable: bool = False,
    ) -> None:
        self.code = code
        # No answer from Meta at all (connection refused, DNS, timeout): Meta refused nothing.
        self.unreachable = unreachable
        # True when Meta may have received and acted on the request although we got no usable
        # answer (a read timeout, a dropped connection, an unreadable 2xx). Sends must not be
        # retried then: Meta has no idempotency key, so the customer would get the message twice.
        self.maybe_delivered = maybe_delivered
        self.title = title
        self.details = details
        self.http_status = http_status
        cls = classify(code, http_status)
        self.transient = cls.kind is Kind.TRANSIENT if transient is None else transient
        self.stops_channel = cls.kind is Kind.STOPS_CHANNEL
        self.defer_seconds = cls.defer_seconds
        self.slows_number = cls.slows_number
        self.slows_customer = cls.slows_customer
        super().__init__(self._text())

    def _text(self) -> str:
        code = f"({self.code}) " if self.code is not None else ""
        status = f" [HTTP {self.http_status}]" if self.http_status is not None else ""
        details = f": {self.details}" if self.details and self.details != self.title else ""
        return f"{code}{self.title or 'Cloud API error'}{details}{status}"

    @property
    def reason(self) -> str:
        """What to show an agent."""
        if self.unreachable and self.code is None:
            return str(_("WhatsApp's Cloud API could not be reached, so the message was not handed to WhatsApp."))
        return reason_for(self.code)

    def __repr__(self) -> str:
        return f"CloudApiError(code={self.code!r}, http_status={self.http_status!r}, transient={self.transient!r})"
