# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SANDBOX ?= auto
JOBS ?= $(shell nproc)

.PHONY: install host image demo serve stack stack-down test test-quick validate lint bench clean

# torch is pinned exactly: torch==2.13.0 is the CPU build this machine keeps on disk;
# an open range would pull a CUDA build of several GB.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,service]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages (bubblewrap, docker.io, debootstrap), a running dockerd, the sandbox image.
host:
	bash scripts/setup-host.sh

image:
	bash docker/build-image.sh

demo: install
	bash scripts/setup-host.sh --light
	$(VENV)/bin/judge demo --sandbox $(SANDBOX) --jobs $(JOBS)

# The live judge on http://127.0.0.1:8000 (data in service-data/); Ctrl-C stops it.
serve: install
	bash scripts/setup-host.sh --light
	$(VENV)/bin/judge serve --data service-data

# The scaled-out service on this machine: PostgreSQL, Redis, the API on 127.0.0.1 (port
# STACK_PORT, default 8000) and Celery workers (STACK_WORKERS, default 2), in the background,
# with their data in .stack/; `make stack-down` stops them (scripts/stack.sh).
stack: install
	bash scripts/stack.sh up

stack-down:
	bash scripts/stack.sh down

test: install host
	$(PY) -m pytest -q

# Every problem of the bank: labelled verdicts, calibration over 5 secret draws, limits,
# determinism and the leak audit, on the docker sandbox (CI runs this after `make test`).
validate: install host
	$(VENV)/bin/judge validate --draws 5 --jobs $(JOBS) --sandbox docker

test-quick: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check judge tests bench datasets problems reference
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
