"""The sandbox backends that exist on this machine, and the CI rule on skips.

Under CI=true a test that needs Docker or bubblewrap fails instead of skipping:
CI must exercise the isolating backends for real.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

from judge.errors import SandboxUnavailable
from judge.sandbox import open_sandbox
from judge.sandbox.base import Sandbox

ISOLATING = ("docker", "bwrap")


def unavailable(reason: str, backend: str) -> None:
    """Skip, or fail under CI for an isolating backend."""
    if os.environ.get("CI") == "true" and backend in ISOLATING:
        pytest.fail(f"CI must run the {backend} backend, but: {reason}")
    pytest.skip(reason)


@cache
def _open(name: str) -> Sandbox | str:
    try:
        return open_sandbox(name).sandbox
    except SandboxUnavailable as exc:
        return str(exc)


def get_backend(name: str) -> Sandbox:
    """Return the named backend or skip (fail under CI) when it is not available."""
    opened = _open(name)
    if isinstance(opened, str):
        unavailable(opened, name)
        raise AssertionError("unreachable")
    return opened


def _marks(name: str) -> list[pytest.MarkDecorator]:
    return [getattr(pytest.mark, name)] if name in ISOLATING else []


BACKEND_PARAMS = [pytest.param(name, marks=_marks(name)) for name in ("process", *ISOLATING)]
ISOLATING_PARAMS = [pytest.param(name, marks=_marks(name)) for name in ISOLATING]
