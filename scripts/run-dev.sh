#!/usr/bin/env bash
# `make run`: the inbox on uvicorn, and the simulator standing in for Meta beside it.
set -euo pipefail
port=${1:-8000}
sim_port=${2:-8001}
bin=.venv/bin
export WHATSAPP_GRAPH_URL=${WHATSAPP_GRAPH_URL:-http://127.0.0.1:$sim_port}
export SIMULATOR_WEBHOOK_URL=${SIMULATOR_WEBHOOK_URL:-http://127.0.0.1:$port/webhooks/whatsapp/}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if $bin/python manage.py help simulator >/dev/null 2>&1; then
  $bin/python manage.py simulator --port "$sim_port" &
  pids+=($!)
  echo "Simulator (the fake Cloud API and the customer phone page): http://127.0.0.1:$sim_port/"
fi
echo "Inbox: http://127.0.0.1:$port/login/"
$bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$port" --lifespan off &
pids+=($!)
wait -n "${pids[@]}"
