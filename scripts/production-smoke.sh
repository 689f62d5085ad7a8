#!/usr/bin/env bash
# The production shape, from `requirements.txt` alone: a fresh virtualenv with nothing from
# requirements-dev.txt, DEBUG off, collectstatic, migrate, then uvicorn, a Celery worker, the
# webhook processor and beat
# on Redis and PostgreSQL, with the simulator standing in for Meta. One signed webhook in, one
# reply out through the API, and the reply must reach "read". CI runs it before the tests, so a
# runtime dependency that only the dev requirements bring in fails here, not in production.
#
# Needs PostgreSQL and Redis (DATABASE_URL's server, REDIS_URL). Uses its own database and Redis
# db number, dropped or flushed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PYTHON=${PYTHON:-python3}
pg_server=${SMOKE_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
redis_base=${SMOKE_REDIS_BASE:-redis://127.0.0.1:6379}
db_name=inbox_smoke_$$
work=$(mktemp -d)
web_port=${SMOKE_WEB_PORT:-18000}
sim_port=${SMOKE_SIM_PORT:-18001}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$pg_server/postgres" -q -c "DROP DATABASE IF EXISTS $db_name" >/dev/null 2>&1 || true
  redis-cli -u "$redis_base/15" flushdb >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "--- a fresh virtualenv from requirements.txt alone"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
bin=$work/venv/bin

export DEBUG=false
export SECURE_SSL_REDIRECT=false  # plain http on 127.0.0.1: no TLS to redirect to
export SECRET_KEY=smoke-$(date +%s%N)-not-a-real-secret
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL=$pg_server/$db_name
export REDIS_URL=$redis_base/15
export WHATSAPP_APP_SECRET=smoke-app-secret
export WHATSAPP_VERIFY_TOKEN=smoke-verify-token
export WHATSAPP_ACCESS_TOKEN=smoke-access-token
export WHATSAPP_GRAPH_URL=http://127.0.0.1:$sim_port
export SIMULATOR_WEBHOOK_URL=http://127.0.0.1:$web_port/webhooks/whatsapp/
export STATIC_ROOT=$work/static
export CELERY_TASK_ALWAYS_EAGER=false
unset CELERY_BROKER_URL || true

psql "$pg_server/postgres" -q -c "CREATE DATABASE $db_name" >/dev/null
redis-cli -u "$REDIS_URL" flushdb >/dev/null

echo "--- collectstatic, check, migrate"
$bin/python manage.py collectstatic --noinput >/dev/null
$bin/python manage.py check --fail-level ERROR
$bin/python manage.py migrate --noinput >/dev/null
$bin/python manage.py add_number 100000000000001 "+49 30 1234567" --waba-id 200000000000001 --name Smoke >/dev/null
$bin/python manage.py add_user smoke-bot --role agent >/dev/null
token=$($bin/python manage.py create_api_token smoke-bot | tail -n 1)

echo "--- simulator, uvicorn, worker, webhook processor, beat"
$bin/python manage.py simulator --port "$sim_port" --status-delay 0.2 --auto-read >"$work/sim.log" 2>&1 &
pids+=($!)
$bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$web_port" --lifespan off --log-level warning \
  >"$work/web.log" 2>&1 &
pids+=($!)
$bin/celery -A config worker -Q celery,callbacks --loglevel=INFO --concurrency 1 >"$work/worker.log" 2>&1 &
pids+=($!)
$bin/python manage.py process_webhooks >"$work/processor.log" 2>&1 &
pids+=($!)
$bin/celery -A config beat --loglevel=INFO --schedule "$work/beat-schedule" >"$work/beat.log" 2>&1 &
pids+=($!)

if ! $bin/python scripts/production_smoke.py \
    --web "http://127.0.0.1:$web_port" --sim "http://127.0.0.1:$sim_port" --token "$token"; then
  for log in sim web worker processor beat; do echo "--- $log.log (tail)"; tail -n 40 "$work/$log.log"; done
  exit 1
fi
grep -q "beat: Starting" "$work/beat.log" || { echo "beat did not start"; cat "$work/beat.log"; exit 1; }
echo "--- production shape: ok"
