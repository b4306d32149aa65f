# `make run` and `make test` bootstrap .venv themselves; a stamp per extra keeps reruns fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev

.PHONY: run test lint typecheck bench requirements clean

run: $(RUN_STAMP)
	$(BIN)/timetrack serve

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# Vercel installs requirements.txt; it is derived from pyproject.toml (tests/ops checks it).
requirements: | $(BIN)/python
	$(BIN)/python scripts/requirements.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes; the editable install follows source edits.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
