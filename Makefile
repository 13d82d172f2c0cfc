# Two commands matter: `make demo` and `make test`. Both build the venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paperradar --config demo/paperradar.toml run --sample
	$(BIN)/paperradar --config demo/paperradar.toml publish site

# The browser tests drive Debian's chromium (no browser download: Playwright is pointed at this binary).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser tests will be skipped"; \
	else echo "note: chromium needs root and apt-get to install; the browser tests will be skipped"; fi

# Two workers (CI has 2 cores; the suite waits on loopback servers and subprocesses much of the time), one
# test file per worker: module fixtures are built once and the fuzz module's budget check sees all its runs.
test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Style, layers (import-linter contracts in pyproject.toml: `lint-imports` shows them) and types (mypy, strict).
lint: $(STAMP)
	$(BIN)/ruff check paperradar tests bench
	$(BIN)/ruff format --check paperradar tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo/out demo/*.db* .pytest_cache
