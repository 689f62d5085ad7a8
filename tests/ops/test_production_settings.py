"""HTTPS and cookie settings follow DEBUG, and each can be switched (issue 7, item 10).

Read in a fresh process per environment, as production starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SAMESITE",
    "SESSION_COOKIE_SAMESITE",
    "API_DOCS_PUBLIC",
    "SECURE_PROXY_SSL_HEADER",
)
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    f"print(json.dumps({{n: getattr(settings, n, None) for n in {NAMES!r}}}))"
)


def probe(**environ: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DEBUG", "API_DOCS", "DJANGO_"))}
    base.update(ALLOWED_HOSTS="inbox.example.com", DJANGO_SETTINGS_MODULE="config.settings", **environ)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


def settings_with(**environ: str) -> dict:
    result = probe(**environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_is_https_only_with_secure_cookies():
    seen = settings_with(DEBUG="false")
    assert seen["SECURE_SSL_REDIRECT"] is True
    assert seen["SECURE_HSTS_SECONDS"] >= 31536000 and seen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert seen["SESSION_COOKIE_SECURE"] and seen["CSRF_COOKIE_SECURE"] and seen["LANGUAGE_COOKIE_SECURE"]
    assert seen["LANGUAGE_COOKIE_SAMESITE"] == seen["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert seen["API_DOCS_PUBLIC"] is False


def test_development_runs_on_plain_http_with_public_docs():
    seen = settings_with(DEBUG="true")
    assert seen["SECURE_SSL_REDIRECT"] is False and seen["SECURE_HSTS_SECONDS"] == 0
    assert not seen["SESSION_COOKIE_SECURE"] and not seen["LANGUAGE_COOKIE_SECURE"]
    assert seen["API_DOCS_PUBLIC"] is True


def test_the_redirect_can_be_switched_off_and_a_proxy_header_named():
    seen = settings_with(DEBUG="false", SECURE_SSL_REDIRECT="false", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert seen["SECURE_SSL_REDIRECT"] is False
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_malformed_proxy_header_is_refused_at_start():
    result = probe(DEBUG="true", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be a header name" in result.stderr
