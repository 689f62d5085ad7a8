"""Logging filters used by settings.LOGGING."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx answer is logged as its one line, without the exception's traceback.

    Django logs an expected refusal (PermissionDenied -> 403, a SuspiciousOperation -> 400) with
    exc_info, so every agent who opens a page not meant for their role would print a traceback
    that looks like a bug. Only records that carry the answer's status (`status_code`, set by
    Django's log_response) below 500 are touched; a 500 keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
