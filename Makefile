# expatsi — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help demo test bench lint venv messages serve clean sysdeps

help:
	@echo "make demo   – set up, load demo data on SQLite and start http://$(HOST):$(PORT)"
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
	$(PY) bench/run.py

# The demo is local development: debug mode (the built-in secret, plain-HTTP cookies, static files
# served by runserver). EXPATSI_DEBUG defaults to off everywhere else.
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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
