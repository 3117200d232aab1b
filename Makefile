# The two commands of the README's Quick start: `make run` and `make test`.
# Only Python 3.11+ is needed: the first run creates .venv, installs a pinned uv into it and syncs uv.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install check demo-data messages bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --locked --quiet
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed to install the front-end packages"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.synced node_modules/.package-lock.json messages

# Compile the translations (Babel, from uv.lock: no system gettext needed).
messages: $(VENV)/.synced
	@$(BIN)/pybabel compile --domain=django --directory=site/locale --statistics

demo-data: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo

run: demo-data
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Static checks, then the suite on SQLite and, where they answer, on PostgreSQL + Redis.
test: install
	@scripts/run-tests

check: install
	@scripts/run-tests --checks-only

bench: install
	$(BIN)/python bench/checkin.py
	$(BIN)/python bench/points.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-results
