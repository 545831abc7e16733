# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers pytest venv bench clean

venv: $(STAMP)

# The venv is rebuilt when pyproject.toml changes. uv (installed into the venv from PyPI)
# resolves and installs the scientific stack in seconds instead of minutes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,distributed,ray]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/omni demo

lint: $(STAMP)
	$(BIN)/ruff check forecasting allocation api experiments data tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck layers pytest

clean:
	rm -rf $(VENV) omni.db omni.db-* mlruns .mypy_cache .pytest_cache .ruff_cache
