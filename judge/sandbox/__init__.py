"""Sandbox backends behind one interface, and the choice among them.

    docker   one fresh container per run (production)
    bwrap    bubblewrap namespaces plus a cgroup (local, no Docker engine)
    process  rlimits only, no isolation (trusted code)
    fake     scripted facts (unit tests)

`open_sandbox("auto")` tries docker, then bwrap, then process, and says which and why.
`open_sandbox(..., warm=True)` puts a pool of warm single-use slots in front of docker
or bwrap (judge.sandbox.pool); callers still see one `run`, and `close()` the sandbox
when done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from judge.errors import SandboxUnavailable, UsageError
from judge.sandbox.base import Limits, Mount, RunFacts, Sandbox

log = logging.getLogger(__name__)

BACKENDS = ("docker", "bwrap", "process")
# The backends a warm pool can front.
POOLED = ("docker", "bwrap")
CHOICES = ("auto", *BACKENDS)

__all__ = [
    "BACKENDS",
    "CHOICES",
    "Limits",
    "Mount",
    "RunFacts",
    "Sandbox",
    "cold",
    "open_sandbox",
]


@dataclass(frozen=True)
class Choice:
    """The backend picked, and why."""

    sandbox: Sandbox
    reason: str


def _open(name: str, image: str | None) -> Sandbox:
    if name == "docker":
        from judge.sandbox.docker import DockerSandbox

        return DockerSandbox.open(image=image)
    if name == "bwrap":
        from judge.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox.open()
    if name == "process":
        from judge.sandbox.process import ProcessSandbox

        return ProcessSandbox()
    raise UsageError(f"unknown sandbox {name!r}; choose one of {', '.join(CHOICES)}")


def open_sandbox(
    name: str = "auto", image: str | None = None, warm: bool = False, pool_size: int | None = None
) -> Choice:
    """Open the named backend, or the best available one for "auto".

    warm: put a warm pool (pool_size slots; default one per usable core) in front of
    docker or bwrap. Raises SandboxUnavailable (with the reason and the fix) when a
    named backend cannot run here.
    """
    choice = _choose(name, image)
    if not warm or choice.sandbox.name not in POOLED:
        return choice
    from judge.sandbox.pool import WarmPool
    from judge.sandbox.slots import SlotBackend

    pool = WarmPool(cast(SlotBackend, choice.sandbox), size=pool_size)
    return Choice(pool, f"{choice.reason}; warm pool of {pool.size}")


def cold(sandbox: Sandbox) -> Sandbox:
    """Return `sandbox` with every run started cold (a warm pool's cores still counted)."""
    from judge.sandbox.pool import WarmPool

    return sandbox.cold() if isinstance(sandbox, WarmPool) else sandbox


def _choose(name: str, image: str | None) -> Choice:
    if name not in CHOICES:
        raise UsageError(f"unknown sandbox {name!r}; choose one of {', '.join(CHOICES)}")
    if name != "auto":
        return Choice(_open(name, image), f"{name} was asked for")
    skipped: list[str] = []
    for candidate in BACKENDS:
        try:
            sandbox = _open(candidate, image)
        except SandboxUnavailable as exc:
            skipped.append(f"{candidate}: {exc}")
            continue
        reason = f"auto picked {candidate}"
        if skipped:
            reason += " (" + "; ".join(skipped) + ")"
        return Choice(sandbox, reason)
    raise SandboxUnavailable("no sandbox backend is available")  # pragma: no cover
