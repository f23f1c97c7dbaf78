"""Problem kinds: how one kind of problem is staged for a run and how its outputs are scored.

One module per kind, each exporting `KIND`, an object with the `Kind` shape:

    stage(problem, bank, secret, contestant, code, data, memo) -> Staged
        draw the hidden data, write what the sandbox may see into `code` and `data`,
        and return the command (after the interpreter) and the truth, which stays in
        the judge;
    score(spec, output, truth, public, max_bytes) -> (private, public)
        read the run's untrusted outputs and compute the metric on each part of the
        hidden split; runs in the scorer process (judge.scorer), never in the judge.

`get_kind(spec.kind)` is the only dispatch on a problem's kind in the run path; a new
kind is one more module here and its spec section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from judge.bank import Bank
from judge.data import Secret
from judge.errors import SpecError
from judge.spec import Problem, ProblemSpec

# The judge's memo for values that cost a lot to compute and never change for the same
# inputs (a function problem's expected answers): memo(key, compute) -> value.
Memo = Callable[[str, Callable[[], Any]], Any]


@dataclass(frozen=True)
class Staged:
    """What staging a run produced: the sandbox's command and the judge's truth.

    command: argv after the interpreter, with paths inside the sandbox.
    truth: JSON-ready hidden labels or expected answers; never shown to the sandbox.
    public: indices of the hidden rows or calls in the public part of the split.
    """

    command: list[str]
    truth: Any
    public: list[int]


class Kind(Protocol):
    """How one kind of problem is run and scored."""

    name: str

    def stage(
        self,
        problem: Problem,
        bank: Bank,
        secret: Secret,
        contestant: str | None,
        code: Path,
        data: Path,
        memo: Memo,
    ) -> Staged:
        """Write the run's code and data folders; return the command and the truth."""
        ...

    def score(
        self, spec: ProblemSpec, output: Path, truth: Any, public: list[int], max_bytes: int
    ) -> tuple[float, float]:
        """Return the metric on the private and the public part of the hidden split."""
        ...


def split_parts(n: int, public: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the indices of the private and the public part of `n` hidden rows or calls."""
    in_public = np.zeros(n, dtype=bool)
    in_public[np.asarray(public, dtype=np.int64)] = True
    return np.flatnonzero(~in_public), np.flatnonzero(in_public)


_KINDS: dict[str, Kind] = {}
_BUILT_IN_LOADED = False


def register(kind: Kind) -> Kind:
    """Make `kind` available under its name (the modules of this package register theirs)."""
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> Kind:
    """Return the kind called `name`; SpecError if there is none."""
    global _BUILT_IN_LOADED
    if not _BUILT_IN_LOADED:
        from judge.kinds import function, train_predict  # noqa: F401  importing registers

        _BUILT_IN_LOADED = True
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise SpecError(f"unknown problem kind {name!r}; known: {known}") from None
