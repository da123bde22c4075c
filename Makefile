# Darkroom: `make run` starts the studio, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Without a WaveSpeed key the built-in simulator stands in for the real API. The Celery processes
# run under config.keepalive (see the Procfile): one that dies is started again instead of honcho
# stopping everything.
PROCESSES := web worker submitter beat $(if $(WAVESPEED_API_KEY),,simulator)

.PHONY: install run test lint format bench bench-gallery clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	@$(BIN)/python manage.py ensure_demo_user
	@echo "Darkroom: http://$(HOST):$(PORT)/  ($(if $(WAVESPEED_API_KEY),the real WaveSpeed API,the WaveSpeed simulator: no WAVESPEED_API_KEY set)). Ctrl-C stops everything."
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho --procfile Procfile start $(PROCESSES)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/saving.py
	$(BIN)/python bench/jobs_in_flight.py

# PostgreSQL only: DATABASE_URL names its database (migrated and seeded on the first run).
bench-gallery: install
	$(BIN)/python bench/gallery.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
