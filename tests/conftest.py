"""Shared fixtures: every backend, or only the isolating ones (see tests/backends.py)."""

from __future__ import annotations

import socket
import threading
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


@pytest.fixture
def loopback_listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP listener on the host's 127.0.0.1 that records every connection it accepts."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            seen.append(addr[0])
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()
