# expatsi — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# make serve: app server processes (granian), request threads in each, background job workers
WORKERS ?= 2
THREADS ?= 4
WORKERS_TASKS ?= 1

.PHONY: help demo test bench lint venv messages serve clean sysdeps

help:
	@echo "make demo   – set up, load demo data on SQLite and start http://$(HOST):$(PORT)"
	@echo "make serve  – production mode: granian ($(WORKERS) workers) + $(WORKERS_TASKS) db_worker(s) on DATABASE_URL (WORKERS_TASKS=N)"
	@echo "make test   – set up and run the whole suite (SQLite, then PostgreSQL)"
	@echo "make bench  – benchmarks, printed as a table"
	@echo "make lint   – ruff, mypy and the layers contract (.importlinter)"

$(PY):
	@py=$$(scripts/find-python.sh) || exit 1; echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

# System packages (WeasyPrint's libraries, CJK fonts; for tests also PostgreSQL, Chromium, poppler):
# installed with apt when run as root and missing, otherwise named (scripts/system-deps.sh).
sysdeps:
	@scripts/system-deps.sh test

messages: venv
	cd src/expatsi && ../../$(PY) -m django compilemessages --ignore=.venv -v0

test: venv
	@scripts/system-deps.sh test
	scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/check-hidden-imports.py

bench: venv
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) bench/run.py

# The demo is local development: debug mode (the built-in secret, plain-HTTP cookies, static files
# straight from the apps, uncached). EXPATSI_DEBUG defaults to off everywhere else.
demo: export EXPATSI_DEBUG := 1
demo: venv
	@scripts/system-deps.sh runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	@echo
	@echo "expatsi is starting on http://$(HOST):$(PORT)/ with a background worker (Ctrl+C stops both)"
	@$(PY) manage.py db_worker --no-startup-delay --reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

# Production mode (EXPATSI_DEBUG off) on one machine, against DATABASE_URL (default: SQLite under
# var/): static files collected (hashed, compressed), migrations applied, then granian serving the
# WSGI app with WORKERS processes of THREADS request threads each (one database connection per
# thread) and WORKERS_TASKS `db_worker`s for background jobs (`make serve WORKERS_TASKS=4`: a billing
# job's partitions, EXPATSI_BILLING_PARTITIONS, a compliance scan's, EXPATSI_SCAN_PARTITIONS, and the
# pension runs, one per region, are shared among them; more on other machines). Meant to sit behind a TLS proxy that
# redirects plain HTTP itself (docs/operations.md): the app's own redirect is off unless
# EXPATSI_SSL_REDIRECT=1. What a fresh checkout lacks is made, and said: a secret key in
# var/secret-key unless EXPATSI_SECRET_KEY is set, and the signing and data keys (`expatsi card keys
# init` keeps existing ones). Sign-in throttling is shared by the workers through the database
# cache (EXPATSI_CACHE). Ctrl+C: the db_workers get it from the terminal and finish the job in hand
# (Ctrl+C again: at once); granian runs in a process group of its own and is sent SIGTERM by this
# shell instead, because its worker processes hang when the terminal's SIGINT reaches them as well
# as their parent's stop (granian 2.8; a worker that hangs anyway is killed after 15 s).
serve: export EXPATSI_DEBUG := 0
serve: export EXPATSI_SSL_REDIRECT ?= 0
serve: export EXPATSI_CACHE ?= database
serve: venv
	@scripts/system-deps.sh runtime
	@set -euo pipefail; \
	  if [ -z "$${EXPATSI_SECRET_KEY:-}" ]; then \
	    secret="$${EXPATSI_VAR_DIR:-$${EXPATSI_HOME:-.}/var}/secret-key"; \
	    if [ ! -s "$$secret" ]; then \
	      mkdir -p "$$(dirname "$$secret")"; \
	      (umask 077; $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > "$$secret"); \
	      echo "Made a secret key in $$secret (a real deployment sets EXPATSI_SECRET_KEY)"; \
	    fi; \
	    EXPATSI_SECRET_KEY="$$(cat "$$secret")"; export EXPATSI_SECRET_KEY; \
	  fi; \
	  $(VENV)/bin/expatsi card keys init; \
	  $(PY) manage.py collectstatic --noinput -v0; \
	  $(PY) manage.py migrate --noinput; \
	  $(PY) manage.py createcachetable; \
	  workers=(); server=; interrupted=; \
	  trap 'interrupted=1; kill -TERM $$server 2>/dev/null' INT; \
	  trap 'kill -TERM $$server 2>/dev/null' TERM; \
	  trap '[ -n "$$interrupted" ] || kill -TERM $${workers[@]} $$server 2>/dev/null; wait || true' EXIT; \
	  for _ in $$(seq $(WORKERS_TASKS)); do $(PY) manage.py db_worker & workers+=($$!); done; \
	  echo "expatsi (production mode) on http://$(HOST):$(PORT)/ with $(WORKERS) app workers and $(WORKERS_TASKS) db_worker(s) (Ctrl+C stops all)"; \
	  $(PY) -c 'import os, sys; os.setpgrp(); os.execv(sys.argv[1], sys.argv[1:])' \
	    $(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(WORKERS) \
	    --blocking-threads $(THREADS) --backpressure $(THREADS) \
	    --respawn-failed-workers --workers-kill-timeout 15 expatsi.wsgi:application & server=$$!; \
	  status=0; wait $$server || status=$$?; \
	  if [ -n "$$interrupted" ]; then wait $$server 2>/dev/null || true; status=0; fi; \
	  exit $$status

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
