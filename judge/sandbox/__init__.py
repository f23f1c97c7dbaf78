"""Sandbox backends behind one interface, and the choice among them.

    docker   one fresh container per run (production)
    bwrap    bubblewrap namespaces plus a cgroup (local, no Docker engine)
    process  rlimits only, no isolation (trusted code)
    fake     scripted facts (unit tests)

`open_sandbox("auto")` tries docker, then bwrap, then process, and says which and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from judge.errors import SandboxUnavailable, UsageError
from judge.sandbox.base import Limits, Mount, RunFacts, Sandbox

log = logging.getLogger(__name__)

BACKENDS = ("docker", "bwrap", "process")
CHOICES = ("auto", *BACKENDS)

__all__ = ["BACKENDS", "CHOICES", "Limits", "Mount", "RunFacts", "Sandbox", "open_sandbox"]


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


def open_sandbox(name: str = "auto", image: str | None = None) -> Choice:
    """Open the named backend, or the best available one for "auto".

    Raises SandboxUnavailable (with the reason and the fix) when a named backend
    cannot run here.
    """
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
