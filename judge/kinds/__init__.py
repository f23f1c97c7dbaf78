"""Problem kinds: how one kind of problem is staged, scored, checked and handed out.

One module per kind, each exporting `KIND`, an object with the `Kind` shape:

    rules: KindRules (judge.spec)
        what the kind asks of a spec: metrics, shared sections, its own section model;
    stage(problem, bank, secret, contestant, code, data, memo) -> Staged
        draw the hidden data, write what the sandbox may see into `code` and `data`,
        and return the command (after the interpreter) and the truth, which stays in
        the judge;
    score(spec, output, truth, public, max_bytes) -> Scores
        read the run's untrusted outputs and compute the metric on the private and the
        public part of the hidden split, and what each of the spec's parts measured
        (judge.scoring.PartMeasure); runs in the scorer process (judge.scorer), never
        in the judge;
    load(problem, bank, secret, contestant, memo)
        compute and memoize, before any run, what staging that draw would otherwise
        compute on its first run (a function problem's expected answers);
    check_data(problem, bank, secret) -> DataCheck
        the setter's data checks (determinism, dependence on the secret, ...) as plain
        notes that judge.validate turns into findings, and the rows its leak checks need;
    write_practice(problem, bank, secret, folder)
        write the public practice data a contestant takes home into `folder`: a draw
        apart from the hidden one, with its answers (expected values, labels), so a
        contestant can score a file at home (`judge check`);
    stage_practice(problem, practice, code, data) -> Staged
        stage a practice run from a folder `write_practice` wrote: its inputs into
        `data`, its answers as the truth;
    item_count(spec) -> int | None
        how many items a contestant answers (a quiz), or None for a kind without items;
    statement(problem, bank, secret, contestant) -> str
        the statement as `contestant` reads it (a quiz renders their own items).

A kind whose rules say it runs nothing (`KindRules.runs`, a quiz) is staged and
scored like the others, but the judge never starts a sandbox for it: it writes the
handed-in text to the output folder as `HANDED_IN`, and the kind's `score` reads it.

`get_kind(spec.kind)` is the only dispatch on a problem's kind; a new kind is one
more module with its KIND (and its section model, if it has one), registered with
`register(KIND)`. A kind that lives outside this package is registered by module
name with `register_module(name)`: the judge imports it, and the scorer process,
which knows only the built-in kinds, imports the same file (judge.scorer).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from judge.bank import Bank
from judge.data import Secret
from judge.errors import SpecError
from judge.scoring import Scores
from judge.spec import (
    KindRules,
    Problem,
    ProblemSpec,
    register_kind_rules,
    unregister_kind_rules,
)

# The judge's memo for values that cost a lot to compute and never change for the same
# inputs (a function problem's expected answers): memo(key, compute) -> value.
Memo = Callable[[str, Callable[[], Any]], Any]

# What a kind that runs nothing finds in its output folder: the handed-in text.
HANDED_IN = "handed_in.txt"


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


@dataclass(frozen=True)
class Note:
    """One thing a kind's data check found; judge.validate makes it a finding.

    check: the validation check it belongs to ("data", "determinism", "leaks").
    """

    severity: Literal["error", "warning"]
    check: str
    message: str


@dataclass(frozen=True)
class DataCheck:
    """What a kind's data check found, and what validation's leak checks need.

    hidden_rows: the hidden split's inputs as numeric rows, or None when the kind
        has no rows to look for (its leak checks are then skipped).
    public_rows: rows a contestant can see, by where they are ("public training rows").
    """

    notes: list[Note] = field(default_factory=list)
    hidden_rows: NDArray[Any] | None = None
    public_rows: dict[str, NDArray[Any]] = field(default_factory=dict)


class Kind(Protocol):
    """How one kind of problem is run, scored, checked and handed out (module doc)."""

    name: str
    rules: KindRules

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
    ) -> Scores:
        """Return the metric on the private and the public part, and each part's measure."""
        ...

    def load(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None, memo: Memo
    ) -> None:
        """Memoize what staging this draw would compute on its first run; SpecError if broken."""
        ...

    def check_data(self, problem: Problem, bank: Bank, secret: Secret) -> DataCheck:
        """Check the problem's data for the setter; SpecError when it cannot be drawn at all."""
        ...

    def write_practice(self, problem: Problem, bank: Bank, secret: Secret, folder: Path) -> None:
        """Write the public practice data a contestant may take home into `folder`."""
        ...

    def stage_practice(self, problem: Problem, practice: Path, code: Path, data: Path) -> Staged:
        """Stage a run on the practice folder's data; InvalidSource if the folder lacks it."""
        ...

    def item_count(self, spec: ProblemSpec) -> int | None:
        """How many items a contestant answers, or None when the kind has no items."""
        ...

    def statement(
        self, problem: Problem, bank: Bank, secret: Secret, contestant: str | None
    ) -> str:
        """Return the statement `contestant` reads (Markdown)."""
        ...


def practice_public(n: int) -> list[int]:
    """The "public" rows or calls of a practice run: its first 30% (at least one, never all)."""
    return list(range(min(n - 1, max(1, round(0.3 * n))))) if n > 1 else []


def split_parts(n: int, public: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the indices of the private and the public part of `n` hidden rows or calls."""
    in_public = np.zeros(n, dtype=bool)
    in_public[np.asarray(public, dtype=np.int64)] = True
    return np.flatnonzero(~in_public), np.flatnonzero(in_public)


@dataclass(frozen=True)
class KindModule:
    """Where a kind registered by module lives: the scorer process imports it from `file`."""

    name: str
    file: str


_KINDS: dict[str, Kind] = {}
_MODULES: dict[str, KindModule] = {}
_BUILT_IN_LOADED = False


def import_setter_module(path: Path, name: str, what: str) -> ModuleType:
    """Import a setter's trusted module of the reference folder (a quiz's answers, a
    problem's checks) by path; SpecError naming `what` when it is missing or broken."""
    if not path.is_file():
        raise SpecError(f"{path}: {what} are missing")
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{path}: cannot load {what}")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise SpecError(f"{path}: failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def register(kind: Kind) -> Kind:
    """Make `kind` available under its name, to specs and to `get_kind`."""
    if kind.rules.name != kind.name:
        raise SpecError(f"kind {kind.name!r} carries the rules of {kind.rules.name!r}")
    register_kind_rules(kind.rules)
    _KINDS[kind.name] = kind
    return kind


def register_module(module_name: str) -> Kind:
    """Import the kind module `module_name` (it registers its KIND) and allow the scorer it.

    Only kinds registered here (by the judge's own code, never from a problem or a
    submission) are imported by the scorer process (judge.scorer); the module must
    import only judge and installed packages, as the scorer loads it from its file.
    """
    module = importlib.import_module(module_name)
    kind: Kind | None = getattr(module, "KIND", None)
    file: str | None = getattr(module, "__file__", None)
    if kind is None or file is None:
        raise SpecError(f"{module_name}: a kind module must define KIND = register(...)")
    register(kind)  # again, if it was unregistered since the module was imported
    _MODULES[kind.name] = KindModule(module_name, str(Path(file).resolve()))
    return kind


def unregister(name: str) -> None:
    """Forget the kind called `name` (a test's kind, once the test is done)."""
    _KINDS.pop(name, None)
    _MODULES.pop(name, None)
    unregister_kind_rules(name)


def kind_modules() -> dict[str, KindModule]:
    """Return the kinds registered by module: the scorer's allow-list, by kind name."""
    return dict(_MODULES)


def load_kind_module(module: KindModule) -> None:
    """Import a registered kind's module from its file (in the scorer process)."""
    if module.name in sys.modules:
        return
    path = Path(module.file)
    if not path.is_absolute() or path.suffix != ".py" or not path.is_file():
        raise SpecError(f"{module.file}: not a kind module file")
    module_spec = importlib.util.spec_from_file_location(module.name, path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{path}: cannot load kind module {module.name}")
    loaded = importlib.util.module_from_spec(module_spec)
    sys.modules[module.name] = loaded
    try:
        module_spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[module.name]
        raise


def get_kind(name: str) -> Kind:
    """Return the kind called `name`; SpecError if there is none."""
    global _BUILT_IN_LOADED
    if not _BUILT_IN_LOADED:
        from judge.kinds import function, quiz, train_predict  # noqa: F401  importing registers

        _BUILT_IN_LOADED = True
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise SpecError(f"unknown problem kind {name!r}; known: {known}") from None
