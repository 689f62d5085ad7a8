"""View decorators for roles."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.roles import has_capability


def capability_required(codename: str):
    """Sign-in required; then 403 unless the user has the capability (by role, or an agent's grant)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not has_capability(request.user, codename):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
