"""Production (DEBUG off) refuses to start on missing secrets: Django system checks, run for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("SECRET_KEY", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")


def manage_check(**overrides: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in SECRETS + ("DEBUG",)}
    environ.update({"DEBUG": "false", "ALLOWED_HOSTS": "inbox.example.com"}, **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_production_without_secrets_fails_naming_each():
    result = manage_check()
    assert result.returncode != 0
    for name in SECRETS:
        assert f"{name} is not set" in result.stderr


def test_production_with_one_secret_missing_names_only_that_one():
    result = manage_check(SECRET_KEY="x" * 50, WHATSAPP_APP_SECRET="app-secret")
    assert result.returncode != 0
    assert "WHATSAPP_VERIFY_TOKEN is not set" in result.stderr
    assert "SECRET_KEY is not set" not in result.stderr


def test_production_with_all_secrets_passes(tmp_path):
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')  # as after collectstatic
    result = manage_check(
        SECRET_KEY="x" * 50, WHATSAPP_APP_SECRET="app-secret", WHATSAPP_VERIFY_TOKEN="verify", STATIC_ROOT=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr


def test_development_needs_no_secrets():
    result = manage_check(DEBUG="true")
    assert result.returncode == 0, result.stderr
