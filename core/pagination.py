"""Keyset pagination for the JSON API, on django-ninja's pagination API (`@paginate`).

`?cursor=&limit=` in, `{"items": [...], "next": cursor | null}` out, `next` null on the last
page. The cursor is `core.cursors`' (the agent pages use the same); a bad one is answered with
the API's 422 `validation_error`, `fields: {"cursor": "invalid"}`.

Each list keeps its own order and its own keyset filter, so the decorated view returns a
function `read_page(after: Position | None, limit: int) -> KeysetPage` instead of a queryset: the
paginator decodes the cursor and bounds the limit, the function reads one page after that
position, and the paginator encodes where the next one starts. The view still declares its own
page schema as the response (`Output = None`), so OpenAPI keeps the schema names it had.

Decorate views with `keyset_paginated(...)`, ninja's `@paginate` with this class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

from core import cursors
from core.api_errors import ApiError
from core.cursors import InvalidCursor, Position


class KeysetPage(NamedTuple):
    items: Sequence[Any]  # what the response lists, already in its JSON shape
    next: Position | None  # where the next page starts; None on the last page


PageReader = Callable[[Position | None, int], KeysetPage]


def invalid_cursor() -> ApiError:
    return ApiError(422, "validation_error", _("The cursor is not valid."), fields={"cursor": "invalid"})


class KeysetPagination(PaginationBase):
    """`@paginate(KeysetPagination, limit=25, max_limit=100)` on a view returning a PageReader.

    `clamp=True`: a limit outside 1..max_limit is brought inside it (the conversations API has
    always done so); `clamp=False`: the bounds are part of the parameter's schema, and ninja
    answers a limit outside them with 422 (the billing API documents them so).
    """

    Output = None  # the view's response schema is the page; see the module docstring
    INPUT_SCHEMA_NAME = "KeysetInput"

    def __init__(self, *, limit: int, max_limit: int, clamp: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_limit = max_limit
        self.Input = _input_schema(limit, max_limit, clamp)

    def paginate_queryset(self, queryset: PageReader, pagination: Any, request, **params: Any) -> dict[str, Any]:
        read_page = queryset  # ninja's name for what the view returned
        limit = max(1, min(pagination.limit, self.max_limit))  # without clamp, ninja checked it already
        try:
            after = cursors.decode(pagination.cursor) if pagination.cursor else None
            # The reader may refuse a position its list never hands out (a message without a time).
            page = read_page(after, limit)
        except InvalidCursor as exc:
            raise invalid_cursor() from exc
        return {"items": page.items, "next": cursors.encode(*page.next) if page.next else None}


def _input_schema(limit: int, max_limit: int, clamp: bool) -> type[Schema]:
    """The query parameters, as each endpoint documented them before it used this class."""
    limit_field = Field(limit) if clamp else Field(limit, ge=1, le=max_limit)
    return type(
        KeysetPagination.INPUT_SCHEMA_NAME,
        (Schema,),
        {"__annotations__": {"cursor": str | None, "limit": int}, "cursor": None, "limit": limit_field},
    )


def keyset_paginated(*, limit: int, max_limit: int, clamp: bool = True) -> Callable[[Callable], Callable]:
    """`@paginate(KeysetPagination, ...)` for a view of a module with postponed annotations.

    ninja reads the paginated wrapper's parameters in ninja's own module, where a name such as
    `Literal` in the view's string annotations is unknown; they are resolved here first, in the
    view's module.
    """

    def decorate(view: Callable) -> Callable:
        view.__annotations__ = inspect.get_annotations(view, eval_str=True)
        return paginate(KeysetPagination, limit=limit, max_limit=max_limit, clamp=clamp)(view)

    return decorate
