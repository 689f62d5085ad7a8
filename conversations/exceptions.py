"""What conversation services refuse, in words an agent can read."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _


class ConversationError(Exception):
    """A refusal by a conversation service; `message` is meant for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WindowClosed(ConversationError):
    """A free-form send outside the 24-hour customer service window; only templates may go out."""

    def __init__(self, expired_at: datetime | None) -> None:
        self.expired_at = expired_at
        if expired_at is None:
            message = _("The customer has not written yet, so only an approved template can be sent.")
        else:
            message = _(
                "The 24-hour customer service window closed at %(time)s. Send an approved template instead."
            ) % {"time": expired_at.isoformat()}
        super().__init__(message)


class NotAllowed(ConversationError):
    """The user may not do this to this conversation (or the conversation refuses it)."""


class TemplateNotApproved(ConversationError):
    """The template may not be sent: not approved here and by Meta, paused, disabled or unknown."""

    def __init__(self, template: str, message: str) -> None:
        self.template = template
        super().__init__(message)


class InvalidTemplateParameters(ConversationError):
    """The parameters do not fit the template; `problems` lists each one with its field."""

    def __init__(self, problems: list[dict]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(_("The parameters do not fit the template: %(count)d problem(s).") % {"count": count})


class OptedOut(ConversationError):
    """A marketing template to a customer who stopped marketing messages."""

    def __init__(self) -> None:
        super().__init__(
            _("The customer stopped marketing messages from this business; send a utility template or wait for them.")
        )


class BudgetExceeded(ConversationError):
    """The business number's monthly budget does not allow this paid message."""

    def __init__(self, message: str, *, remaining: str, currency: str) -> None:
        self.remaining = remaining
        self.currency = currency
        super().__init__(message)
