# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
export PREFECT_HOME ?= $(CURDIR)/.prefect
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test lint format typecheck unit bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## ingest the bundled samples into ./data and print the counts
	$(BIN)/mediawatch run samples --data-dir $(DATA_DIR) --no-progress
	$(BIN)/mediawatch query "select source, published_at, title from articles order by published_at" --data-dir $(DATA_DIR)

lint: $(STAMP)  ## ruff (lint + format check) and mypy (strict on flows, tasks, storage)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, then the whole test suite (slow tier included)
	$(BIN)/python -m pytest -q

unit: $(STAMP)  ## the fast tier only
	$(BIN)/python -m pytest -q -m "not slow and not integration"

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## throughput and quality benchmarks (print figures; see README)
	$(BIN)/python -m bench.run_all

fuzz: $(STAMP)  ## property-based fuzzing of the parsers, randomized, for 10 minutes (examples and failures per property)
	$(BIN)/python -m bench.fuzz --seconds 600

clean:
	rm -rf $(VENV) .prefect data .pytest_cache .mypy_cache .ruff_cache
