"""Shared fixtures: every backend, or only the isolating ones (see tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from judge.sandbox.base import Sandbox
from tests.backends import BACKEND_PARAMS, ISOLATING_PARAMS, get_backend


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Every backend: process, bwrap, docker."""
    yield get_backend(request.param)


@pytest.fixture(params=ISOLATING_PARAMS)
def isolating_backend(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Only the backends that isolate: bwrap, docker."""
    yield get_backend(request.param)
