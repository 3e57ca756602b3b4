PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install test lint bench clean

install:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'

test:
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check harness tests benchmarks

bench:
	$(BIN)/harness bench --all --out bench-out

clean:
	rm -rf $(VENV) bench-out .pytest_cache
