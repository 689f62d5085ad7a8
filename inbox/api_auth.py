"""API authentication: a bearer token acting as its user, or the browser session."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth

from inbox.services import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = api_token_authenticate(raw=token, now=timezone.now())
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """Django's session, with CSRF checked on unsafe methods (ninja's default)."""
