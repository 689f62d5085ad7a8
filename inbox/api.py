"""API endpoints about the caller."""

from __future__ import annotations

from ninja import Router, Schema

from inbox.roles import role_of

router = Router(tags=["me"])


class MeOut(Schema):
    username: str
    role: str | None


@router.get("/me", response=MeOut)
def me(request):
    """Who the token or session acts as, and with which role."""
    return {"username": request.user.username, "role": role_of(request.user)}
