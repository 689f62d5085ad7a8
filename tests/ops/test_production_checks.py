"""Production refuses to start half-set-up, and `.env.example`'s production values pass
`check --deploy` (issue 7, items 7 and 10). Each run is a real `manage.py` process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"SECRET_KEY": "s" * 20 + secrets.token_urlsafe(40), "WHATSAPP_APP_SECRET": "a", "WHATSAPP_VERIFY_TOKEN": "v"}


def manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "STATIC_"))}
    base.pop("DEBUG", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **environ},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("static")
    result = manage("collectstatic", "--noinput", DEBUG="false", ALLOWED_HOSTS="x", STATIC_ROOT=str(root), **SECRETS)
    assert result.returncode == 0, result.stderr
    return root


def test_without_collectstatic_the_check_fails_and_says_what_to_run(tmp_path):
    result = manage("check", DEBUG="false", ALLOWED_HOSTS="x", STATIC_ROOT=str(tmp_path), **SECRETS)
    assert result.returncode != 0
    assert "inbox.E001" in result.stderr
    assert "python manage.py collectstatic" in result.stderr


def test_after_collectstatic_the_check_passes(collected):
    result = manage("check", DEBUG="false", ALLOWED_HOSTS="x", STATIC_ROOT=str(collected), **SECRETS)
    assert result.returncode == 0, result.stderr
    assert "inbox.E001" not in result.stderr


def test_development_needs_no_collected_static_files(tmp_path):
    result = manage("check", DEBUG="true", STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_the_production_values_of_env_example(collected):
    values = env_example()
    assert values["DEBUG"] == "false"
    # What each deployment replaces: its own secret, and (here) this test's database and Redis.
    values.update(
        SECRET_KEY=SECRETS["SECRET_KEY"],
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
        STATIC_ROOT=str(collected),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", **values)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_names_what_is_missing_without_the_https_settings(collected):
    values = {**env_example(), **SECRETS, "STATIC_ROOT": str(collected)}
    values.update(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="false")
    result = manage("check", "--deploy", "--fail-level", "WARNING", **values)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012"):
        assert warning in result.stderr
