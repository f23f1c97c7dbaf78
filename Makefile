# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SANDBOX ?= auto

.PHONY: install host image demo test test-quick lint bench clean

# torch is pinned exactly: torch==2.13.0 is the CPU build this machine keeps on disk;
# an open range would pull a CUDA build of several GB.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages (bubblewrap, docker.io, debootstrap), a running dockerd, the sandbox image.
host:
	bash scripts/setup-host.sh

image:
	bash docker/build-image.sh

demo: install
	bash scripts/setup-host.sh --light
	$(VENV)/bin/judge demo --sandbox $(SANDBOX)

test: install host
	$(PY) -m pytest -q

test-quick: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check judge tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
