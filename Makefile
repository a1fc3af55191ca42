# Every target creates .venv and installs the project if needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export DO_NOT_TRACK := 1

.PHONY: install demo test bench serve lint format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "modelgate needs Python >= 3.11"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install           ## migrate the embedded SQLite database and run the demo
	$(BIN)/modelgate demo

test: install           ## the whole suite (SQLite and PostgreSQL)
	$(BIN)/pytest

bench: install          ## benchmarks with ratios against the reference libraries
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

serve: install          ## the API on http://127.0.0.1:8080 (docs at /docs)
	$(BIN)/modelgate serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .modelgate .pytest_cache .ruff_cache
