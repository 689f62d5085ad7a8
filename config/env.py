"""Reading configuration from the environment.

Every helper fails loudly with ImproperlyConfigured naming the variable, so a typo in
production stops the process at start-up instead of running with a silent default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """A string from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path!r} ({exc.strerror})") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_prepare_threshold(name: str, default: int) -> int | None:
    """A whole number of runs (0 or more) after which psycopg prepares a statement, or "off"."""
    raw = os.environ.get(name)
    if raw is not None and raw.strip().lower() == "off":
        return None
    value = env_int(name, default)
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more, or off, got {value}")
    return value


def database_config(
    url: str,
    *,
    base_dir: Path,
    pool_max_size: int = 10,
    conn_max_age: int = 0,
    pool_timeout: int = 10,
    prepare_threshold: int | None = 5,
) -> dict[str, Any]:
    """The default database: PostgreSQL from DATABASE_URL, else an SQLite file.

    PostgreSQL connections come from a per-process pool (psycopg 3, pool_max_size; 0 turns it
    off). Persistent connections (conn_max_age) are no alternative under ASGI: Django runs each
    request's sync code in a fresh thread, so they pile up one per thread until PostgreSQL
    refuses clients; and a new connection per request halves the webhook throughput
    (bench/webhook_intake.py: 160 req/s without the pool, 322 with it).
    """
    if pool_max_size < 0:
        raise ImproperlyConfigured(f"DATABASE_POOL_MAX_SIZE must be 0 (off) or more, got {pool_max_size}")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": base_dir / "db.sqlite3",
            # The embedded default still serves concurrent requests (the simulator's webhooks
            # arrive while an agent sends): WAL lets readers go on during a write, IMMEDIATE
            # takes the write lock at BEGIN (no upgrade deadlock), and writers wait, not fail.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if not url.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// or postgresql:// URL, got scheme of {url.split(':', 1)[0]!r}"
        )
    import dj_database_url

    if pool_max_size and conn_max_age:
        raise ImproperlyConfigured("DATABASE_CONN_MAX_AGE must be 0 while DATABASE_POOL_MAX_SIZE is set")
    if pool_timeout < 1:
        raise ImproperlyConfigured(f"DATABASE_POOL_TIMEOUT must be 1 second or more, got {pool_timeout}")
    # Health checks: with the pool, Django passes psycopg_pool's ConnectionPool.check_connection as
    # the pool's `check`, so a connection that died with a PostgreSQL restart is replaced before
    # it is handed out (one round trip), instead of failing one request per pooled connection.
    config = dj_database_url.parse(
        url, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0 or pool_max_size > 0
    )
    # Parameters travel apart from the statement (PostgreSQL's extended protocol) instead of being
    # quoted into it by psycopg, and a statement a connection has run prepare_threshold times is
    # prepared: PostgreSQL parses it no more. The pooled connections live long, so a page's
    # queries are parsed once per connection instead of once per request. Behind a pooler in
    # transaction mode, which hands each transaction another server session, prepared statements
    # must be off (DATABASE_PREPARE_THRESHOLD=off).
    config.setdefault("OPTIONS", {})["server_side_binding"] = True
    config["OPTIONS"]["prepare_threshold"] = prepare_threshold
    if prepare_threshold is not None:
        # But each run is still planned for its own values. A plan made once for any value
        # (PostgreSQL may switch a prepared statement to one) cannot use a partial index whose
        # condition names a value: the processor's claim of `state = 'received'` events then scans
        # every event ever stored (138 ms instead of 0.5 ms at 60,000 events; bench/ingest.py:
        # 1,032 -> 474 msg/s applied), and the queues of replies, campaigns and callbacks have such
        # indexes too. Statements that are not prepared are planned for their values anyway.
        options = config["OPTIONS"].get("options", "")  # DATABASE_URL's ?options=, if any
        config["OPTIONS"]["options"] = f"{options} -c plan_cache_mode=force_custom_plan".strip()
    if pool_max_size:
        # A request waits at most pool_timeout seconds for a free connection, then fails instead of hanging.
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, pool_max_size),
            "max_size": pool_max_size,
            "timeout": pool_timeout,
        }
    if not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL must name a database (…/DBNAME)")
    return config


def validate_redis_url(url: str) -> str:
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {url!r}")
    return url


def channel_layers(redis_url: str) -> dict[str, Any]:
    """channels_redis when Redis is configured; in-memory for the single-process default."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return {
        "default": {
            "BACKEND": "config.channel_layer.InboxChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "inbox"},
        }
    }


def celery_config(redis_url: str, *, eager: bool | None = None) -> dict[str, Any]:
    """Celery on Redis when configured; otherwise tasks run eagerly in-process."""
    run_eagerly = (not redis_url) if eager is None else eager
    return {
        "broker_url": redis_url or "memory://",
        "result_backend": None,
        "task_always_eager": run_eagerly,
        "task_eager_propagates": run_eagerly,
    }


_API_VERSION = re.compile(r"^v\d+\.\d+$")


def validate_api_version(value: str) -> str:
    if not _API_VERSION.match(value):
        raise ImproperlyConfigured(f"WHATSAPP_API_VERSION must look like v26.0, got {value!r}")
    return value


def validate_base_url(name: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def dev_secret_key(base_dir: Path) -> str:
    """A per-checkout secret for development, generated once and kept out of git."""
    path = base_dir / ".dev-secret"
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    secret = get_random_secret_key()
    path.write_text(secret)
    return secret


def meta_header(name: str) -> str:
    """`X-Forwarded-Proto` as Django finds it in request.META: `HTTP_X_FORWARDED_PROTO`."""
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER must be a header name (X-Forwarded-Proto), got {name!r}")
    return "HTTP_" + name.upper().replace("-", "_")
