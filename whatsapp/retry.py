"""Exponential backoff with full jitter for transient Cloud API errors.

Short in-process retries for calls that a caller is waiting on (a media download task, the
delivery task before it hands over to Celery's own retry). `sleep` and `rng` are injectable so
tests can check the delays without waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from whatsapp.errors import CloudApiError

logger = logging.getLogger(__name__)

R = TypeVar("R")


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: Callable[[], float] = random.random
) -> float:
    """The wait before retry number `attempt` (0-based): uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads retries of many workers hit by the same rate limit, so they do not all
    come back at the same instant.
    """
    return rng() * min(cap, base * (2 ** max(attempt, 0)))


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, CloudApiError) and exc.transient


def call_with_retry(
    fn: Callable[[], R],
    *,
    attempts: int = 4,
    base: float = 1.0,
    cap: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    retry_if: Callable[[BaseException], bool] = is_transient,
) -> R:
    """Call `fn`; on a transient error wait and call again, at most `attempts` times in all.

    Permanent errors and the last transient one propagate unchanged.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if attempt + 1 >= attempts or not retry_if(exc):
                raise
            delay = backoff_delay(attempt, base=base, cap=cap, rng=rng)
            logger.info("transient Cloud API error, retry %d/%d in %.1fs: %s", attempt + 1, attempts - 1, delay, exc)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
