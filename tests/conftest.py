"""Shared fixtures: every backend, or only the isolating ones (see tests/backends.py).

Each test session gets its own temp root (`tempfile.tempdir` and TMPDIR), so the run
folders it makes, and the trace checks of tests/adversarial that look for run folders
left behind, are its own: a second judge or test session on the same host is never
blamed.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from judge.sandbox.base import Sandbox
from judge.sandbox.workspace import remove_tree
from tests.backends import BACKEND_PARAMS, ISOLATING_PARAMS, get_backend

_SESSION_TEMP: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Make this session's private temp root (world-readable, as /tmp is, for uid 65534)."""
    root = Path(tempfile.mkdtemp(prefix="judge-tests-"))
    root.chmod(0o755)
    tempfile.tempdir = str(root)
    os.environ["TMPDIR"] = str(root)  # the CLI and other subprocesses too
    _SESSION_TEMP.append(root)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's temp root, however deep a test left it."""
    for root in _SESSION_TEMP:
        remove_tree(root)


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
