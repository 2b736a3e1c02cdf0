# Value Portrait: the two commands for a fresh machine are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's scripted model (evaluation/demo_model.py), where the demo model configuration points.
# When this port is taken, `manage.py serve_demo_model` says so, serves on a free port and
# points the configuration there (or uses an OpenAI-compatible server already on the port).
DEMO_MODEL_PORT ?= 8080
# Tests use the machine's PostgreSQL and Redis unless DATABASE_URL / REDIS_URL say otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/valueportrait
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install install-test run serve migrate demo test lint browser-deps messages js-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Running the app needs only the project; the tests also need the dev tools and the local
# transformers backend (CPU torch 2.13.0) whose test builds a tiny model.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed messages

install-test: $(VENV)/.installed-test messages

# The participant pages' message catalogues (locale/*/LC_MESSAGES/django.po) compiled to .mo
# with GNU gettext's msgfmt (Debian's gettext package, installed here as root if missing).
messages: $(VENV)/.installed
	@if ! command -v msgfmt >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "Install GNU gettext (msgfmt) to compile the translations: pages fall back to English."; exit 0; fi; \
	fi; \
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=build -v0

# axe-core (accessibility checks of the browser tests) from the npm registry, into
# node_modules/ (the tests inject its axe.min.js into the pages; never from a CDN).
js-deps:
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null && npm ci --no-audit --no-fund --silent; \
	else echo "Install npm for the accessibility tests (skipped without axe-core)."; fi

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

# Run the app on its embedded defaults (SQLite, filesystem Celery broker): web + worker.
run: demo serve

serve:
	@echo "Serving on http://$(HOST):$(PORT)/  (survey: /s/demo/, admin: /admin/) - Ctrl-C stops web, worker and the demo model"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 -B --schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py serve_demo_model --port $(DEMO_MODEL_PORT) & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium package for the browser tests (they are skipped without it)."; fi; \
	fi

lint: install-test
	$(BIN)/ruff check .

test: install-test browser-deps js-deps
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 build dist node_modules
	find locale -name '*.mo' -delete
