# The front door. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SIMULATOR_PORT ?= 8001
# The test suite runs on the real services (DESIGN.md); override these for another machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/whatsapp_inbox
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help venv run test smoke lint fmt worker processor beat bench migrate messages

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate ## create the virtualenv and install requirements

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: venv ## the inbox with demo data on SQLite, the simulator standing in for Meta
	$(BIN)/python manage.py migrate --noinput
	PORT=$(PORT) $(BIN)/python manage.py seed_demo
	@./scripts/run-dev.sh $(PORT) $(SIMULATOR_PORT)

test: venv ## the whole suite on PostgreSQL and Redis
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest $(PYTEST_ARGS)

smoke: ## the production shape from requirements.txt alone: one webhook in, one reply read (CI runs it)
	./scripts/production-smoke.sh

lint: venv ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv ## format and fix what ruff can
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: venv ## a Celery worker (needs REDIS_URL)
	$(BIN)/celery -A config worker -Q celery,callbacks --loglevel=INFO

processor: venv ## the webhook processor: applies stored webhook events in batches (needs PostgreSQL)
	$(BIN)/python manage.py process_webhooks

beat: venv ## Celery beat, the periodic tasks (needs REDIS_URL)
	$(BIN)/celery -A config beat --loglevel=INFO

bench: venv ## load and scale scenarios in bench/ (not tests)
	$(BIN)/python bench/run.py

messages: venv ## refresh locale/de (.po) and compile it (.mo); needs gettext. Commit both files.
	$(BIN)/python manage.py makemessages -l de --no-wrap --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv
