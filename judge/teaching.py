"""Hints and editorials for practice at home: `judge hint` and `judge editorial`.

A problem's hints (reference/<slug>/hints/1.md, 2.md, ...) are revealed one at a time,
in order; the hint log (a small JSON file in the user's state folder) remembers how
many of each problem were revealed and when, so that a coach, or the student, can see
which problems were solved with help. The log is the student's own record; rounds keep
theirs in the service's database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from judge.bank import editorial_file, hint_files
from judge.errors import UsageError
from judge.spec import Problem


@dataclass(frozen=True)
class Hint:
    number: int
    total: int
    text: str


class HintLog:
    """The hints revealed so far, per problem, kept in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path}: cannot read the hint log ({exc})") from None
        if not isinstance(data, dict):
            raise UsageError(f"{self.path}: the hint log is not a JSON object")
        return data

    def revealed(self, slug: str) -> list[str]:
        """When each revealed hint of `slug` was revealed (ISO times), in order."""
        entry = self._read().get(slug, [])
        return [str(moment) for moment in entry] if isinstance(entry, list) else []

    def reveal_next(self, problem: Problem) -> Hint | None:
        """Record and return the next hint of `problem`; None once all were revealed."""
        hints = hint_files(problem)
        if not hints:
            raise UsageError(f"{problem.spec.id} has no hints")
        data = self._read()
        moments = self.revealed(problem.spec.id)
        if len(moments) >= len(hints):
            return None
        moments.append(datetime.now(UTC).isoformat(timespec="seconds"))
        data[problem.spec.id] = moments
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_suffix(".tmp")
        staging.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(staging, self.path)  # a crash never leaves half a log
        return read_hint(problem, len(moments))

    def shown(self, problem: Problem) -> list[Hint]:
        """The hints of `problem` revealed so far."""
        count = min(len(self.revealed(problem.spec.id)), len(hint_files(problem)))
        return [read_hint(problem, number) for number in range(1, count + 1)]


def read_hint(problem: Problem, number: int) -> Hint:
    hints = hint_files(problem)
    return Hint(number, len(hints), hints[number - 1].read_text(encoding="utf-8").strip())


def read_editorial(problem: Problem) -> str:
    path = editorial_file(problem)
    if not path.is_file():
        raise UsageError(f"{problem.spec.id} has no editorial yet")
    return path.read_text(encoding="utf-8")
