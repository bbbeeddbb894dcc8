# Two entry points for a fresh machine: `make up` runs the service, `make test` the suite.
# Both create .venv with the locked dependencies first (only when the lock changed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.PHONY: setup up test lint format env-docs services tools

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet
	touch $@

setup: $(VENV)/.synced

up: setup
	$(BIN)/omc up

services:
	scripts/services.sh

tools:
	scripts/ops-tools.sh

test: setup services tools
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

env-docs: setup
	$(BIN)/omc settings docs --output docs/ENV.md
