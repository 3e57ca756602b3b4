PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install test test-real lint bench clean

install:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'

test:
	$(BIN)/python -m pytest -m "not real"

test-real:  # a real model: HARNESS_REAL_MODEL and HARNESS_REAL_API_BASE (see README: real models)
	$(BIN)/python -m pytest -m real tests/test_real_model.py

lint:  # ruff, then mypy over harness/ (its settings: [tool.mypy] in pyproject.toml)
	$(BIN)/ruff check harness tests benchmarks
	$(BIN)/mypy

bench:  # every suite, offline; results, trajectories and one report in bench-out/
	$(BIN)/harness bench --all --jobs 2 --out bench-out
	@echo "report: bench-out/report.html"

clean:
	rm -rf $(VENV) bench-out .pytest_cache .mypy_cache
