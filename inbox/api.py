"""API endpoints about the caller."""

from __future__ import annotations

from ninja import Router, Schema

from core.api_errors import ApiErrorOut
from core.roles import role_of

router = Router(tags=["me"])


class MeOut(Schema):
    username: str
    role: str | None


# Takes no parameters and every role may ask: only a missing token or a database outage can refuse it.
@router.get("/me", response={200: MeOut, 401: ApiErrorOut, 503: ApiErrorOut})
def me(request):
    """Who the token or session acts as, and with which role."""
    return {"username": request.user.username, "role": role_of(request.user)}
