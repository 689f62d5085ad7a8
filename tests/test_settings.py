"""Settings come from the environment; each switch and each bad value is checked in a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'],"
    " 'db_name': str(settings.DATABASES['default']['NAME']),"
    " 'layer': settings.CHANNEL_LAYERS['default']['BACKEND'],"
    " 'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
    " 'debug': settings.DEBUG, 'conn_max_age': settings.DATABASES['default'].get('CONN_MAX_AGE'),"
    " 'pool': settings.DATABASES['default'].get('OPTIONS', {}).get('pool'),"
    " 'binding': settings.DATABASES['default'].get('OPTIONS', {}).get('server_side_binding'),"
    " 'prepare': settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold', 'unset'),"
    " 'options': settings.DATABASES['default'].get('OPTIONS', {}).get('options')}))"
)


def run_settings(**overrides: str) -> subprocess.CompletedProcess:
    names = (
        "DATABASE_URL",
        "DATABASE_POOL_MAX_SIZE",
        "DATABASE_PREPARE_THRESHOLD",
        "REDIS_URL",
        "DEBUG",
        "SECRET_KEY",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "ALLOWED_HOSTS",
        "CELERY_TASK_ALWAYS_EAGER",
        "WHATSAPP_API_VERSION",
        "WHATSAPP_GRAPH_URL",
    )
    environ = {k: v for k, v in os.environ.items() if k not in names}
    environ.update(overrides, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def probe(**overrides: str) -> dict:
    result = run_settings(**overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_gives_the_embedded_default():
    seen = probe()
    assert seen["db"] == "django.db.backends.sqlite3"
    assert seen["db_name"].endswith("db.sqlite3")
    assert seen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert seen["eager"] is True
    assert seen["debug"] is True


def test_database_url_switches_to_postgresql_with_a_connection_pool():
    seen = probe(DATABASE_URL="postgres://postgres@127.0.0.1:5432/inbox_example")
    assert seen["db"] == "django.db.backends.postgresql"
    assert seen["db_name"] == "inbox_example"
    assert seen["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10}
    assert seen["conn_max_age"] == 0
    assert seen["binding"] is True
    assert seen["prepare"] == 5
    assert seen["options"] == "-c plan_cache_mode=force_custom_plan"


def test_the_plan_mode_joins_the_options_the_database_url_gives():
    url = "postgres://postgres@127.0.0.1:5432/inbox_example?options=-c%20statement_timeout%3D5000"
    seen = probe(DATABASE_URL=url)
    assert seen["options"] == "-c statement_timeout=5000 -c plan_cache_mode=force_custom_plan"


def test_prepared_statements_can_be_turned_off_for_a_pooler_in_transaction_mode():
    seen = probe(DATABASE_URL="postgres://postgres@127.0.0.1:5432/inbox_example", DATABASE_PREPARE_THRESHOLD="off")
    assert seen["prepare"] is None
    assert seen["binding"] is True
    assert seen["options"] is None  # a pooler may refuse startup options; nothing is prepared to need it


def test_the_pool_can_be_turned_off():
    seen = probe(DATABASE_URL="postgres://postgres@127.0.0.1:5432/inbox_example", DATABASE_POOL_MAX_SIZE="0")
    assert seen["pool"] is None


def test_redis_url_switches_channel_layer_and_celery():
    seen = probe(REDIS_URL="redis://127.0.0.1:6379/3")
    assert seen["layer"] == "config.channel_layer.InboxChannelLayer"  # channels_redis pub/sub, see that module
    assert seen["eager"] is False
    assert seen["broker"] == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("REDIS_URL", "localhost:6379"),
        ("WHATSAPP_API_VERSION", "26"),
        ("WHATSAPP_GRAPH_URL", "graph.facebook.com"),
        ("DATABASE_POOL_MAX_SIZE", "-1"),
        ("DATABASE_PREPARE_THRESHOLD", "-1"),
        ("DATABASE_PREPARE_THRESHOLD", "sometimes"),
    ],
)
def test_bad_values_fail_at_start_naming_the_variable(name, value):
    result = run_settings(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_env_bool_accepts_the_usual_spellings(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("no", False), ("false", False)]:
        monkeypatch.setenv("SOME_FLAG", raw)
        assert env.env_bool("SOME_FLAG", default=not expected) is expected


def test_env_str_reads_docker_secret_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env.env_str("SOME_SECRET") == "from-a-file"
    monkeypatch.setenv("SOME_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SOME_SECRET_FILE"):
        env.env_str("SOME_SECRET")


@pytest.mark.django_db
def test_postgresql_prepares_a_statement_the_connection_runs_again_and_again():
    # Parameters travel apart from the SQL (server_side_binding), so psycopg can prepare a
    # statement after its fifth run (prepare_threshold) and PostgreSQL stops parsing it again.
    from django.db import connection

    from conversations.models import Contact

    assert connection.vendor == "postgresql"
    for _ in range(6):
        Contact.objects.filter(wa_id="4915100000000").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("conversations_contact" in statement and "$1" in statement for statement in prepared), prepared


@pytest.mark.django_db
def test_postgresql_plans_each_run_for_its_values_so_partial_indexes_stay_usable():
    # A plan made once for any value cannot use `webhook_queue_idx` (WHERE state = 'received'):
    # the processor's claim would read every event ever stored.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
