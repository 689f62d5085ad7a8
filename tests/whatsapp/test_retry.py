from __future__ import annotations

import pytest

from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay, call_with_retry


def _flaky(failures: list[Exception]):
    calls = []

    def fn():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    return fn, calls


def test_transient_errors_are_retried_with_exponentially_growing_waits():
    fn, calls = _flaky([CloudApiError(code=130429)] * 3)
    slept: list[float] = []
    assert call_with_retry(fn, attempts=4, base=1.0, sleep=slept.append, rng=lambda: 1.0) == "ok"
    assert slept == [1.0, 2.0, 4.0]
    assert len(calls) == 4


def test_jitter_keeps_each_wait_under_its_cap():
    fn, _ = _flaky([CloudApiError(code=2)] * 5)
    slept: list[float] = []
    values = iter([0.5, 0.25, 0.9, 0.1, 0.7])
    call_with_retry(fn, attempts=6, base=2.0, cap=10.0, sleep=slept.append, rng=lambda: next(values))
    assert slept == [1.0, 1.0, 7.2, 1.0, 7.0]


def test_the_cap_bounds_the_wait():
    assert backoff_delay(20, base=1.0, cap=30.0, rng=lambda: 1.0) == 30.0


def test_permanent_errors_are_not_retried():
    fn, calls = _flaky([CloudApiError(code=131047)])
    slept: list[float] = []
    with pytest.raises(CloudApiError):
        call_with_retry(fn, sleep=slept.append)
    assert slept == [] and len(calls) == 1


def test_the_last_transient_error_propagates():
    fn, calls = _flaky([CloudApiError(code=4)] * 5)
    with pytest.raises(CloudApiError) as info:
        call_with_retry(fn, attempts=3, sleep=lambda s: None)
    assert info.value.code == 4 and len(calls) == 3


def test_other_exceptions_are_not_retried():
    fn, calls = _flaky([KeyError("x")])
    with pytest.raises(KeyError):
        call_with_retry(fn, sleep=lambda s: None)
    assert len(calls) == 1
