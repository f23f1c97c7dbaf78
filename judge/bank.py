"""The problem bank on disk: `problems/`, `reference/` and `datasets/` under one root.

`reference/<slug>/` holds the setter's labelled submissions in folders named by the
verdict they must get, and optionally `submissions.yaml` giving an expected metric
or score range per file (keys are paths like `wrong_answer/foo.py`, or `starter`).
It also holds what teaches the problem, never handed out with it: `hints/1.md`,
`hints/2.md`, ... (revealed one at a time, in order) and `editorial.md`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from judge.errors import SpecError, UsageError
from judge.spec import SLUG, Problem, load_problem
from judge.verdicts import Verdict

EXPECTATIONS_FILE = "submissions.yaml"
HINTS_FOLDER = "hints"
EDITORIAL_FILE = "editorial.md"

# Folders of reference/<slug>/ named by the verdict their submissions must get.
VERDICT_FOLDERS: dict[str, Verdict] = {
    "accepted": Verdict.AC,
    "wrong_answer": Verdict.WA,
    "time_limit": Verdict.TLE,
    "memory_limit": Verdict.MLE,
    "runtime_error": Verdict.RE,
    "invalid_output": Verdict.IO,
}


@dataclass(frozen=True)
class LabelledSubmission:
    """A setter's submission and the verdict it must get."""

    path: Path
    expected: Verdict
    label: str


class Expectation(BaseModel):
    """Ranges a labelled submission's private metric and score must fall in (inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    score: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None

    @model_validator(mode="after")
    def _ranges_ordered(self) -> Expectation:
        for name in ("metric", "score"):
            bounds = getattr(self, name)
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError(f"{name}: the low end {bounds[0]} exceeds the high end")
        return self


def load_expectations(problem: Problem) -> dict[str, Expectation]:
    """Read reference/<slug>/submissions.yaml (absent: no ranges); SpecError names the fault."""
    path = problem.reference_folder / EXPECTATIONS_FILE
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of submission paths to ranges")
    known = {item.label for item in labelled_submissions(problem)}
    found = {}
    for label, ranges in raw.items():
        if label not in known:
            raise SpecError(
                f"{path}: {label!r} is not a labelled submission; "
                f"use one of: {', '.join(sorted(known))}"
            )
        try:
            found[label] = Expectation.model_validate(ranges)
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or label}: {e['msg']}" for e in exc.errors()
            )
            raise SpecError(f"{path}: {label}: {reason}") from None
    return found


def labelled_submissions(problem: Problem) -> list[LabelledSubmission]:
    """Return the starter and every file under reference/<slug>/<verdict>/, with its verdict."""
    found = [LabelledSubmission(problem.starter, problem.spec.starter_verdict, "starter")]
    for folder_name, verdict in VERDICT_FOLDERS.items():
        folder = problem.reference_folder / folder_name
        if folder.is_dir():
            found += [
                LabelledSubmission(path, verdict, f"{folder_name}/{path.name}")
                for path in sorted(folder.glob("*.py"))
            ]
    return found


@dataclass(frozen=True)
class Bank:
    """A bank root holding problems/, reference/ and datasets/."""

    root: Path

    @property
    def problems_dir(self) -> Path:
        return self.root / "problems"

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def slugs(self) -> list[str]:
        """Return the slugs of every problem folder, sorted."""
        if not self.problems_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.problems_dir.iterdir()
            if p.is_dir() and (p / "spec.yaml").is_file()
        )

    def folders(self) -> list[Path]:
        """Return every problem folder, with or without a spec (validation reports the latter)."""
        if not self.problems_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.problems_dir.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_"))
        )

    def problem(self, slug: str) -> Problem:
        """Load one problem; an unknown slug is a usage error naming the known ones."""
        if not SLUG.match(slug) or slug not in self.slugs():
            known = ", ".join(self.slugs()) or "none"
            raise UsageError(f"unknown problem {slug!r}; known problems: {known}")
        return load_problem(self.problems_dir / slug, self.reference_dir)

    def problems(self) -> list[Problem]:
        """Load every problem (a broken one raises SpecError)."""
        return [self.problem(slug) for slug in self.slugs()]


def find_bank(start: Path) -> Bank:
    """Find the bank root at `start` or above it (the folder that holds problems/)."""
    for folder in (start, *start.parents):
        if (folder / "problems").is_dir() and (folder / "datasets").is_dir():
            return Bank(folder)
    raise SpecError(f"no problem bank (problems/ and datasets/) at or above {start}")


def hint_files(problem: Problem) -> list[Path]:
    """The problem's hints in the order they are revealed (hints/1.md, hints/2.md, ...)."""
    folder = problem.reference_folder / HINTS_FOLDER
    numbered = [p for p in folder.glob("*.md") if p.stem.isdigit()] if folder.is_dir() else []
    return sorted(numbered, key=lambda p: int(p.stem))


def editorial_file(problem: Problem) -> Path:
    return problem.reference_folder / EDITORIAL_FILE


def problem_digest(problem: Problem, bank: Bank) -> str:
    """Return a SHA-256 of everything that decides a problem's verdicts.

    The spec, statement and starter, the dataset recipe, and every file under the
    problem's reference folder (the references that make expected answers) but its
    hints and editorial, by path and bytes; a rejudge can tell whether any of it changed.
    """
    files = [problem.folder / "spec.yaml", problem.statement, problem.starter]
    if problem.spec.dataset_section is not None:
        files.append(bank.datasets_dir / f"{problem.spec.dataset_section.recipe}.py")
    teaching = problem.reference_folder / HINTS_FOLDER, editorial_file(problem)
    if problem.reference_folder.is_dir():
        files += sorted(
            path
            for path in problem.reference_folder.rglob("*")
            if path.is_file()
            and "__pycache__" not in path.parts
            and not any(path == t or path.is_relative_to(t) for t in teaching)
        )
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(bank.root) if path.is_relative_to(bank.root) else path
        digest.update(str(name).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")
    return digest.hexdigest()
