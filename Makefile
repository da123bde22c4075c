# Darkroom: `make run` starts the studio, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_INSTALL = python -m pip install --quiet --disable-pip-version-check
# Exact versions with hashes (`make lock` writes them from pyproject.toml): dev.txt for this
# virtualenv (the app's dependencies and the test tools), base.txt for the Docker image.
LOCK := requirements/dev.txt
HOST ?= 127.0.0.1
PORT ?= 8000
# With DEBUG on, `make run` serves only on a loopback address unless this is 1.
ALLOW_PUBLIC_DEBUG ?=
# honcho reads this file into every process's environment, its values winning over the shell's;
# each step before the processes reads it too, through `honcho run`. DARKROOM_MAKE_RUN=1 tells
# the settings that the simulator `make run` starts can reach the app at HOST:PORT (base.py).
# `honcho start` gives each process a PORT of its own (web's, plus 100 per process), so the web
# process's port (PORT, from the .env file if it sets one) travels to the others as
# DARKROOM_WEB_PORT.
ENV_FILE ?= .env
HONCHO_RUN = HOST=$(HOST) PORT=$(PORT) ALLOW_PUBLIC_DEBUG=$(ALLOW_PUBLIC_DEBUG) DARKROOM_MAKE_RUN=1 \
	$(BIN)/honcho --env $(ENV_FILE) run
# uv, for `make lock`, and pip-audit, for `make audit`, in a virtualenv of their own
# (requirements/tools.txt, locked likewise).
TOOLS ?= .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-stamp
# `make lock` keeps every pin that still fits pyproject.toml; `make lock UPGRADE=1` takes the
# newest versions it allows.
UV_COMPILE = $(TOOLS)/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

.PHONY: install run prepare createsuperuser test lint format lock audit bench bench-gallery \
	bench-gallery-weight api-schema clean

$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP_INSTALL) --require-hashes --requirement $(LOCK)
	$(BIN)/$(PIP_INSTALL) --no-deps --editable .
	touch $(STAMP)

install: $(STAMP)

# The processes (Procfile) as `manage.py describe_provider --processes` names them: the
# simulator only when the settings point the app at it. DARKROOM_MAKE_RUN=1 tells the settings
# that the simulator can reach the app at HOST:PORT, so its webhooks are used (base.py).
run: install prepare
	@processes="$$($(HONCHO_RUN) $(BIN)/python manage.py describe_provider --processes)" \
		&& web_port="$$($(HONCHO_RUN) sh -c 'echo "$$PORT"')" \
		&& HOST=$(HOST) PORT=$(PORT) DARKROOM_MAKE_RUN=1 DARKROOM_WEB_PORT="$$web_port" \
			exec $(BIN)/honcho --env $(ENV_FILE) \
			--procfile Procfile \
			start $$processes

# Before the processes: refuse a public HOST with DEBUG on, migrate, make the demo login (once,
# on a new embedded database) and print the start-up line. Needs `make install`.
prepare:
	@$(HONCHO_RUN) $(BIN)/python manage.py prepare_run

# An admin for a database without the demo login (DATABASE_URL, or one with accounts).
createsuperuser: install
	@$(HONCHO_RUN) $(BIN)/python manage.py createsuperuser

# The suite runs in TEST_PROCESSES processes (pytest-xdist), each with its own database, Redis
# database and folders (config/settings/test.py); much of it waits on workers, servers and the
# browser, so three share two cores well. TEST_PROCESSES=0 runs it in this process.
TEST_PROCESSES ?= 3
test: install
	$(BIN)/python -m pytest $(if $(filter-out 0,$(TEST_PROCESSES)),-n $(TEST_PROCESSES) --dist worksteal) $(PYTEST_ARGS)

# mypy checks the packages [tool.mypy] lists in pyproject.toml, strictly.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# docs/api/openapi.json, the API schema's checked-in copy (tests/api/test_schema.py compares).
api-schema: install
	$(BIN)/python manage.py api_schema

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/$(PIP_INSTALL) --require-hashes --requirement requirements/tools.txt
	touch $(TOOLS_STAMP)

# Regenerates the locks from pyproject.toml (and requirements/tools.in) with PyPI's hashes,
# for Python 3.11 and later on any platform. dev.txt is held to base.txt's versions.
lock: $(TOOLS_STAMP)
	$(UV_COMPILE) pyproject.toml --output-file requirements/base.txt
	$(UV_COMPILE) pyproject.toml --extra dev --constraint requirements/base.txt \
		--output-file requirements/dev.txt
	$(UV_COMPILE) requirements/tools.in --output-file requirements/tools.txt

# Known vulnerabilities in the locked versions, when a vulnerability database can be reached;
# says plainly when none can. Not part of CI.
audit: $(TOOLS_STAMP)
	@$(TOOLS)/bin/python scripts/audit.py requirements/dev.txt requirements/tools.txt

bench: install
	$(BIN)/python bench/saving.py
	$(BIN)/python bench/jobs_in_flight.py

# PostgreSQL only: DATABASE_URL names its database (migrated and seeded on the first run).
bench-gallery: install
	$(BIN)/python bench/gallery.py

# The bytes a browser fetches for a first gallery page (after bench-gallery has seeded).
bench-gallery-weight: install
	$(BIN)/python bench/gallery_weight.py

clean:
	rm -rf $(VENV) $(TOOLS) var staticfiles .pytest_cache .ruff_cache .mypy_cache
