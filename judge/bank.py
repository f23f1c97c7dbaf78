"""The problem bank on disk: `problems/`, `reference/` and `datasets/` under one root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from judge.errors import SpecError, UsageError
from judge.spec import SLUG, Problem, load_problem
from judge.verdicts import Verdict

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
