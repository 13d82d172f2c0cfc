# Two commands matter: `make demo` and `make test`. Both build the venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paperradar --config demo/paperradar.toml run --sample

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check paperradar tests bench
	$(BIN)/ruff format --check paperradar tests bench

clean:
	rm -rf $(VENV) demo/out demo/*.db* .pytest_cache
