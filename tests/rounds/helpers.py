"""Building rounds, contestants' folders, records and stores for the round tests."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from judge.bank import Bank
from judge.errors import UsageError
from judge.rounds.records import Manifest, Record
from judge.rounds.roundfile import Round, load_round
from judge.verdicts import MetricValue, Result, Verdict

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BANK = Bank(FIXTURES / "bank")
ROUND_FILE = BANK.root / "rounds" / "fixture-round.yaml"
HONEST_THRESHOLD = BANK.reference_dir / "threshold" / "accepted" / "solution.py"
HONEST_ADD = BANK.reference_dir / "add-arrays" / "accepted" / "solution.py"
BUGGY_THRESHOLD = BANK.problems_dir / "threshold" / "starter.py"
CRASHING = FIXTURES / "submissions" / "raises.py"
NOTEBOOK = FIXTURES / "notebooks" / "threshold_solution.ipynb"
START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def fixture_round() -> Round:
    return load_round(BANK, ROUND_FILE)


def write_round(folder: Path, text: str, name: str = "my-round") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def hand_in(folder: Path, contestant: str, name: str, source: Path | str, minute: int = 0) -> Path:
    """Copy `source` (a file, or text) to folder/contestant/name, modified at START + minute."""
    target = folder / contestant / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copyfile(source, target)
    else:
        target.write_text(source, encoding="utf-8")
    moment = (START + timedelta(minutes=minute)).timestamp()
    os.utime(target, (moment, moment))
    return target


def five_contestants(folder: Path) -> Path:
    """Honest, buggy, crashing, notebook and missing-file contestants of the fixture round."""
    hand_in(folder, "honest", "threshold.py", HONEST_THRESHOLD, 10)
    hand_in(folder, "honest", "add-arrays.py", HONEST_ADD, 20)
    hand_in(folder, "buggy", "threshold.py", BUGGY_THRESHOLD, 5)
    hand_in(folder, "buggy", "add-arrays.py", BANK.problems_dir / "add-arrays" / "starter.py", 6)
    hand_in(folder, "crashing", "threshold.py", CRASHING, 7)
    hand_in(folder, "crashing", "add-arrays.py", "", 8)  # an empty file cannot be run
    hand_in(folder, "notebook", "threshold.ipynb", NOTEBOOK, 30)
    hand_in(folder, "missing", "add-arrays.py", HONEST_ADD, 40)  # nothing for threshold
    return folder


def record(
    contestant: str,
    problem: str,
    minute: int,
    score: float,
    public: float | None = None,
    verdict: Verdict = Verdict.AC,
    max_score: float = 100.0,
    file: str | None = None,
) -> Record:
    name = file or f"{problem}.{minute:04d}.py"
    result = Result(
        problem=problem,
        verdict=verdict,
        score=score,
        max_score=max_score,
        metric=MetricValue("accuracy", score / max_score),
        message="",
        sandbox="fake",
        public_score=score if public is None else public,
    )
    moment = START + timedelta(minutes=minute)
    return Record(f"{contestant}/{name}", contestant, problem, name, "sha", moment, moment, result)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class MemoryStore:
    """A VerdictStore in memory, the fake beside the JSONL store: records cross it as dicts."""

    def __init__(self) -> None:
        self.appended: list[dict[str, Any]] = []
        self.manifest: dict[str, Any] | None = None

    def load(self) -> dict[str, Record]:
        return {data["key"]: Record.from_dict(data) for data in self.appended}

    def append(self, record: Record) -> None:
        self.appended.append(record.to_dict())

    def write_manifest(self, manifest: Manifest) -> None:
        self.manifest = manifest.to_dict()

    def read_manifest(self) -> Manifest:
        if self.manifest is None:
            raise UsageError("memory: no judged round here; run `judge round judge` first")
        return Manifest.from_dict(self.manifest)
