"""Meta's error codes as the simulator answers them: synchronously, or as a `failed` status."""

from __future__ import annotations

import secrets

HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (HTTP status when answered synchronously, title, details). Titles follow Meta's table;
# clients must rely on `code`, not on these words (cloud-api.md 4.2).
ERRORS: dict[int, tuple[int, str, str]] = {
    0: (401, "AuthException", "We were unable to authenticate the app user."),
    1: (400, "API Unknown", "Invalid request or possible server error."),
    2: (503, "API Service", "Temporary due to downtime or due to being overloaded."),
    4: (400, "API Too Many Calls", "The app has reached its API call rate limit."),
    10: (403, "API Permission Denied", "Permission is either not granted or has been removed."),
    100: (400, "Invalid parameter", "The request included one or more unsupported or misspelled parameters."),
    190: (401, "Invalid OAuth access token - Cannot parse access token", "The access token is invalid or expired."),
    368: (403, "Temporarily blocked for policies violations", "The account is restricted for policy violations."),
    80007: (400, "Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    130472: (400, "User's number is part of an experiment", "Message was not sent as part of an experiment."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: (403, "Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "Required parameter is missing", "The request is missing a required parameter."),
    131009: (400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131016: (503, "Service unavailable", "A service is temporarily unavailable."),
    131021: (400, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    131031: (403, "Account has been locked", "The business account was restricted or disabled."),
    131042: (400, "Business eligibility payment issue", "There was an error related to your payment method."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131048: (400, "Spam rate limit hit", "Message failed to send because of restrictions on the number."),
    131049: (
        400,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "Per-user marketing limit reached.",
    ),
    131050: (400, "Unable to deliver the message", "The user has stopped marketing messages from this business."),
    131051: (400, "Unsupported message type", "Unsupported message type."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit", "Too many messages to this user."),
    131057: (503, "Account in maintenance mode", "The business account is in maintenance mode."),
    132000: (400, "Number of parameters does not match the expected number of params", "Parameter count mismatch."),
    132001: (404, "Template name does not exist in the translation", "The template does not exist or is not approved."),
    132012: (400, "Parameter format does not match format in the created template", "Parameter format mismatch."),
    132015: (400, "Template is Paused", "The template is paused due to low quality."),
    132016: (400, "Template is Disabled", "The template has been disabled."),
}

# Delivery problems that Meta accepts (HTTP 200 with a wamid) and then reports as a `failed`
# status webhook; every other code is answered synchronously.
ASYNC_CODES = frozenset({130472, 131026, 131047, 131049, 131050, 131051, 131053})


def http_status(code: int) -> int:
    return ERRORS.get(code, (400, "", ""))[0]


def error_body(code: int, details: str | None = None) -> dict:
    """Meta's synchronous error shape."""
    _status, title, default_details = ERRORS.get(code, (400, "Error", "Error."))
    return {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or default_details},
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
    }


def status_error(code: int, details: str | None = None) -> dict:
    """One entry of `statuses[].errors[]` on a `failed` status webhook."""
    _status, title, default_details = ERRORS.get(code, (400, "Error", "Error."))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or default_details},
        "href": HREF,
    }
