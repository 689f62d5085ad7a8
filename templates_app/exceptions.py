"""What template services and selectors refuse, in words a person can read."""

from __future__ import annotations

from django.utils.translation import gettext as _


class TemplateError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateNotApproved(TemplateError):
    """Not sendable: unknown, not approved by a second admin, or not APPROVED at Meta right now."""


class InvalidParameters(TemplateError):
    """The parameters do not fit the template; `problems` lists every one `{field, message}`."""

    def __init__(self, problems: list[dict]) -> None:
        super().__init__(
            _("The parameters do not fit the template: %(problems)s")
            % {"problems": "; ".join(p["message"] for p in problems)}
        )
        self.problems = problems


class TemplateValidationError(TemplateError):
    """Meta would reject this template; `problems` lists each `{field, message}`."""

    def __init__(self, problems: list[dict]) -> None:
        super().__init__(
            _("The template has problems: %(problems)s") % {"problems": "; ".join(p["message"] for p in problems)}
        )
        self.problems = problems


class NotAllowed(TemplateError):
    """The user's role may not do this."""


class FourEyesViolation(NotAllowed):
    """The author tried to approve their own template."""

    def __init__(self) -> None:
        super().__init__(_("A second admin must approve this: authors cannot approve their own templates."))


class WrongState(TemplateError):
    """The version is not in the state this step needs (e.g. approving a draft)."""
