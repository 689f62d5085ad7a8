"""Reading numbers out of user input (query strings, form fields)."""

from __future__ import annotations

# A schema pattern for free text that is compared in SQL: PostgreSQL refuses a string with a NUL
# character (the query fails), so the API says up front that such text is not valid (422).
NO_NUL = r"^[^\x00]*$"


def positive_int(value) -> int | None:
    """The value as an id, or None. `str.isdigit` alone is not enough: "²" is a digit to it,
    and int("²") raises."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)
