"""Errors billing raises to its callers."""

from __future__ import annotations

from decimal import Decimal


class BudgetExceeded(Exception):
    """A send would overshoot a business number's hard-stop budget; the caller rolls back and
    answers 402 `budget_exceeded` with `remaining` and `currency`."""

    def __init__(self, remaining: Decimal, currency: str, message: str) -> None:
        super().__init__(message)
        self.remaining = remaining
        self.currency = currency
        self.message = message


class LoadError(Exception):
    """A rate card or market map file refused whole; `line` and `column` are 1-based (0 = unknown)."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0) -> None:
        where = f"line {line}" + (f", column {column}" if column else "") if line else ""
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.line = line
        self.column = column
