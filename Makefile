# Draftflow: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in mails point here; the environment's PUBLIC_URL wins (e.g. behind a proxy).
ifeq ($(strip $(PUBLIC_URL)),)
PUBLIC_URL = http://$(HOST):$(PORT)
endif

.PHONY: install install-dev system-deps translations run worker test test-sqlite test-postgres lint bench i18n-extract clean

# --- installation ---------------------------------------------------------------------
$(BIN)/python:
	@# Debian splits venv into python3-venv; install it when missing and we are root.
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime translations
install-dev: $(VENV)/.dev translations

# Catalogs are compiled at install time; the .mo files are not in git.
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -d translations 2>/dev/null

# Debian packages the suite needs: Redis, PostgreSQL, Chromium, LibreOffice and poppler (for
# the PDF checks), Liberation fonts (Times New Roman's metrics; version 2 has Vietnamese).
# Installed only when missing, and only when we may (root).
SYSTEM_PACKAGES := redis-server postgresql chromium libreoffice-writer-nogui fonts-dejavu-core \
	poppler-utils fonts-liberation fonts-liberation2
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	{ command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-writer-nogui fonts-dejavu-core"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	[ -f /usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf ] || missing="$$missing fonts-liberation"; \
	[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || missing="$$missing fonts-liberation2"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run as root, or install them)"; exit 1; \
	  fi; \
	fi

# --- running ------------------------------------------------------------------------------
# Web server + one Celery worker with beat on the embedded SQLite broker. Ctrl-C stops all.
run: export PUBLIC_URL := $(PUBLIC_URL)
run: install
	@$(BIN)/flask --app app db upgrade
	@$(BIN)/flask --app app demo --if-empty
	@bash -c 'set -m; \
	  trap "kill -TERM -\$$web -\$$worker 2>/dev/null; wait" INT TERM EXIT; \
	  $(BIN)/celery -A tasks worker --beat --loglevel=warning --concurrency=1 \
	     --schedule instance/celerybeat-schedule & worker=$$!; \
	  $(BIN)/flask --app app run --host $(HOST) --port $(PORT) & web=$$!; \
	  sleep 1; echo; echo "Draftflow: http://$(HOST):$(PORT)/   (Ctrl-C to stop)"; \
	  $(BIN)/flask --app app demo --logins; \
	  wait'

# --- checking ------------------------------------------------------------------------------
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-dev system-deps
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory test-sqlite
	@# The SQLite pass has run every test; on PostgreSQL only those that reach a database.
	$(MAKE) --no-print-directory test-postgres PG_ONLY=--db-bound-only

test-sqlite: install-dev
	$(BIN)/python -m pytest -n 2 --db=sqlite -p no:cacheprovider

test-postgres: install-dev
	$(BIN)/python -m pytest -n 2 --db=postgresql -p no:cacheprovider $(PG_ONLY)

bench: install-dev
	$(BIN)/python -m bench

i18n-extract: install-dev
	$(BIN)/pybabel extract --ignore-dirs=".venv tests instance bench" -F babel.cfg -k _l -k lazy_gettext -k N_ -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
