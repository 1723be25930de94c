# ingestd — make run | make test | make bench
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test test-fast lint bench demo clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## Run the daemon on the example cmdb.yaml and rules/ (127.0.0.1:9095, SQLite under ./data/).
run: $(STAMP)
	$(BIN)/ingestd serve --auth none

## Debian packages the end-to-end and browser tests use (Prometheus, Alertmanager, Chromium).
system-deps:
	sh scripts/install-system-deps.sh

## Lint, type-check and run every test (unit, store, end-to-end with the real binaries).
test: $(STAMP) system-deps
	$(BIN)/ruff check ingestd tests bench
	$(BIN)/mypy ingestd
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not e2e and not slow"

## Benchmarks: intake against the floor server, scenario replay, correlation at 100k CIs.
bench: $(STAMP)
	$(BIN)/python -m bench.run

## Feed a recorded alert storm into a running daemon (make run in another shell).
demo: $(STAMP)
	$(BIN)/ingestd demo

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
