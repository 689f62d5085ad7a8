from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.roles import CAPABILITIES


class Capability(models.Model):
    """Holds the role permissions (see inbox/roles.py); it has no table and no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())

    def __str__(self) -> str:
        return "capability"


class UserProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # Empty means "follow the browser" (a cookie set by base.html from Intl's time zone).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    # An agent created without named numbers works every number's inbox, including future ones.
    all_numbers = models.BooleanField(_("works all numbers"), default=False)
    # New customer messages in the open inbox page: a short sound, a desktop notification.
    notify_sound = models.BooleanField(_("play a sound for new messages"), default=False)
    notify_desktop = models.BooleanField(_("show desktop notifications for new messages"), default=False)

    def __str__(self) -> str:
        return f"profile of {self.user}"


TOKEN_PREFIX = "wai_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for business systems. Only its SHA-256 is stored; the raw token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so a person can tell tokens apart without the secret.
    key_prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
