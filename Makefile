# The single entry point: every target creates .venv and installs what it needs when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench chaos lock clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "nats-pubsub needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,fast]'
	$(BIN)/python -m compileall -q src  # the editable sources' bytecode, so services start lighter
	@touch $(STAMP)

run: $(STAMP)  ## the main job: embedded NATS server + publisher + subscriber
	$(BIN)/nats-pubsub up

test: $(STAMP)  ## the whole suite against real nats-server processes
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, mypy --strict and the import contracts (pyproject's [tool.importlinter])
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(STAMP)  ## side-by-side throughput ratios (not run by CI)
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 || \
		echo "wrk not installed (apt-get install wrk): the gateway rows use a Python load client"
	$(BIN)/python benchmarks/run.py

chaos: $(STAMP)  ## the fault soak: nodes and services killed and frozen, nothing acked lost
	$(BIN)/nats-pubsub chaos $(CHAOS_ARGS)

lock: $(STAMP)  ## re-pin deploy/requirements.lock (hashes; what the image installs) from pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra fast --universal --python-version 3.11 \
		--generate-hashes --index-url https://pypi.org/simple \
		--custom-compile-command "make lock" -o deploy/requirements.lock

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
