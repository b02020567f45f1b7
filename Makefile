# The two commands: `make run` (set up, migrate, seed, serve) and `make test` (set up, run tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test install install-test system-deps migrate seed worker serve bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: create the venv, install, migrate, seed the demo marketplace, serve on http://127.0.0.1:5000
run: install migrate seed
	$(FLASK) run --host $(HOST) --port $(PORT)

migrate: install
	$(FLASK) db upgrade

seed: install
	$(FLASK) seed
	@if $(FLASK) search --help >/dev/null 2>&1; then $(FLASK) search reindex; fi

## make test: install what the tests need (Python and Debian packages), then run them
test: install-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian packages the tests start or drive: redis-server (a private server per run),
# chromium (headless, driven by Playwright) and clamav-daemon (a private clamd with a test
# signature database, offline). Installed only when missing; needs root.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/sbin/clamd || missing="$$missing clamav-daemon"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## make worker: an RQ worker (queues search, scan, default) with the scheduler and the outbox sweep
worker: install
	$(FLASK) worker

## make serve: production-style serving with gunicorn (set APP_ENV=production, SECRET_KEY, DATABASE_URL, ...)
serve: install migrate
	$(BIN)/gunicorn --workers $${WEB_CONCURRENCY:-4} --bind $${BIND:-0.0.0.0:8000} --access-logfile - wsgi:app

bench: install-test system-deps
	@for script in tests/bench/bench_*.py; do echo "# $$script"; $(BIN)/python $$script || exit 1; done

lint: install-test
	$(BIN)/ruff check app demo jobs migrations tests wsgi.py
	$(BIN)/ruff format --check app demo jobs migrations tests wsgi.py

format: install-test
	$(BIN)/ruff format app demo jobs tests wsgi.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
