# Every target sets up .venv itself, so a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo simulate test test-tools lint bench profile clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/meetingmesh demo

simulate: $(STAMP)
	$(BIN)/meetingmesh simulate

test: $(STAMP) test-tools
	$(BIN)/python -m pytest

# Node.js and Debian's chromium for tests/clients (installs chromium when root and missing).
test-tools:
	bash scripts/install-test-tools

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Prints figures and writes benchmarks/results/latest.json; about 5 minutes, never fails on a
# timing. Installs wrk (apt, as root) and the peer gateway (npm, cached) when it can.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# Flame graphs of the gateway under load (py-spy), written to benchmarks/profiles/.
profile: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.profile

lint: $(STAMP)
	$(BIN)/ruff check meetingmesh tests benchmarks scripts
	$(BIN)/ruff format --check meetingmesh tests benchmarks scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/clients/node_modules
