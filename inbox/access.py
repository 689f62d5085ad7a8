"""View decorators for roles."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from inbox.roles import perm


def capability_required(codename: str):
    """Sign-in required; then 403 unless the user's role has the capability."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm(codename)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
