"""Setter checks: is a problem ready for contestants? Findings are collected, never raised.

`validate_bank` checks each problem in three phases and reports every finding
(error or warning) with the check that found it:

- files: the spec loads; the statement has the sections Task, Input, Output,
  Scoring and Limits and names the output contract; no `TODO(setter)` marker is
  left; reference/<slug>/ has only verdict folders, an accepted submission and a
  valid submissions.yaml; the limits are possible on this machine; a problem in
  parts states each part's points;
- banned: every banned API names a module or attribute that exists, and the
  statement says it is banned;
- data: the problem's kind checks its data (judge.kinds): the recipe draws rows of
  the right shape, the same secret gives the same bytes and another secret other
  rows, the metric is defined on both parts of the hidden split;
- leaks: no hidden row (by hash) in the public training rows, the practice draw or
  any file of the problem folder; no reference file copied under problems/; and,
  once per bank, none in any file readable inside the sandbox (`audit_sandbox`);
- verdicts: every labelled submission (the starter included) gets its verdict, and
  its metric and score fall in the ranges of submissions.yaml;
- calibration: over N secret draws the reference is accepted on every draw and
  the starter gets its declared verdict on every draw; the report gives the
  reference's worst metric, the starter's best and their margins to the threshold;
- limits: 2 x the slowest reference run must fit the wall limit (error), 3 x
  should (warning); peak memory is reported against the limit;
- determinism: the reference run twice on one secret gives metrics within the
  spec's `metric.tolerance`.

Draw 0 is the judge's own secret; draws 1..N-1 are secrets derived from it, so a
validation is reproducible and never touches a round's real hidden data.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from judge.bank import (
    EDITORIAL_FILE,
    EXPECTATIONS_FILE,
    HINTS_FOLDER,
    VERDICT_FOLDERS,
    Bank,
    Expectation,
    LabelledSubmission,
    editorial_file,
    hint_files,
    labelled_submissions,
    load_expectations,
)
from judge.batch import cores_for, run_pinned, usable_cores
from judge.data import Secret, TrainPredictData, derive_secret
from judge.errors import InvalidOutput, InvalidSource, JudgeError, SandboxError, SpecError
from judge.harness import leak_scan
from judge.kinds import DataCheck, get_kind
from judge.kinds.quiz import ANSWER_MODULE
from judge.kinds.train_predict import CHECKS_MODULE
from judge.outputs import read_untrusted_file
from judge.runner import Judge, as_result, run_submission
from judge.sandbox import cold
from judge.sandbox.base import CODE_DIR, OUTPUT_DIR, Limits, Mount, Sandbox
from judge.sandbox.workspace import capped_directory, run_folder
from judge.spec import Problem, all_bans, load_problem
from judge.verdicts import Result, Verdict

log = logging.getLogger(__name__)

REQUIRED_SECTIONS = ("task", "input", "output", "scoring", "limits")
# A kind that runs nothing (a quiz): its items are rendered below the statement.
HAND_IN_SECTIONS = ("task", "answers", "scoring")
MARKER = "TODO(setter)"
TIME_MULTIPLIER = 2.0  # Kattis: the limit must hold the slowest accepted run twice over
SAFETY_MULTIPLIER = 3.0  # below this, warn: a slower machine may turn AC into TLE
MEMORY_WARNING_SHARE = 0.8
REFERENCE_BUDGET_S = 20.0  # the bank's budget for one reference run
AUDIT_LIMITS = Limits(wall_s=600, memory_mb=2048, output_mb=16)


class Severity(StrEnum):
    """How bad a finding is: an error fails validation, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One thing validation found, with the check that found it."""

    severity: Severity
    check: str
    message: str


@dataclass(frozen=True)
class RunRecord:
    """One sandboxed run made by validation."""

    label: str
    role: str  # "labelled", "reference" or "starter"
    draw: int
    verdict: Verdict
    metric: float | None
    public_metric: float | None
    score: float
    wall_s: float
    peak_mb: float
    message: str


@dataclass
class ProblemReport:
    """Everything validation found and measured about one problem."""

    slug: str
    draws: int
    findings: list[Finding] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    metric: str | None = None
    direction: str | None = None
    threshold: float | None = None
    reference_worst: float | None = None
    starter_best: float | None = None
    reference_wall_max_s: float | None = None
    reference_peak_mb: float | None = None
    wall_limit_s: float | None = None
    memory_limit_mb: int | None = None

    def error(self, check: str, message: str) -> None:
        self.findings.append(Finding(Severity.ERROR, check, message))

    def warn(self, check: str, message: str) -> None:
        self.findings.append(Finding(Severity.WARNING, check, message))

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity is Severity.WARNING for f in self.findings)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def _margin(self, value: float | None, above: bool) -> float | None:
        if value is None or self.threshold is None:
            return None
        sign = 1.0 if (self.direction == "max") == above else -1.0
        return round(sign * (value - self.threshold), 6)

    @property
    def reference_margin(self) -> float | None:
        """How far the reference's worst draw clears the threshold (negative: it fails)."""
        return self._margin(self.reference_worst, above=True)

    @property
    def starter_margin(self) -> float | None:
        """How far the starter's best draw stays from the threshold (negative: it passes)."""
        return self._margin(self.starter_best, above=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [{**asdict(f), "severity": str(f.severity)} for f in self.findings]
        data["runs"] = [{**asdict(r), "verdict": str(r.verdict)} for r in self.runs]
        data.update(
            ok=self.ok,
            errors=self.errors,
            warnings=self.warnings,
            reference_margin=self.reference_margin,
            starter_margin=self.starter_margin,
        )
        return data


@dataclass
class BankReport:
    """The reports of every validated problem and the bank-wide findings."""

    problems: list[ProblemReport]
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        own = sum(f.severity is Severity.ERROR for f in self.findings)
        return own + sum(p.errors for p in self.problems)

    @property
    def warnings(self) -> int:
        own = sum(f.severity is Severity.WARNING for f in self.findings)
        return own + sum(p.warnings for p in self.problems)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 1),
            "findings": [{**asdict(f), "severity": str(f.severity)} for f in self.findings],
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class ValidateOptions:
    """How much to check: secret draws for calibration, parallel runs, the sandbox audit."""

    draws: int = 5
    jobs: int = 1
    audit_sandbox: bool = True


Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class _PlannedRun:
    report: ProblemReport
    problem: Problem
    path: Path
    label: str
    role: str
    draw: int
    secret: Secret


@dataclass
class Plan:
    """A problem that passed the static checks, with what its runs need."""

    report: ProblemReport
    problem: Problem
    reference: Path | None
    runs: list[_PlannedRun]
    data: DataCheck | None


# ---------------------------------------------------------------------------
# Static checks: files, statement, reference layout, limits


def _lines_with_marker(path: Path) -> Iterator[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if MARKER in line:
            yield f"{path}:{number}: {line.strip()}"


def _files_under(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def check_markers(report: ProblemReport, problem: Problem, bank: Bank) -> None:
    """Every `TODO(setter)` marker left in the problem's files is an error."""
    files = _files_under(problem.folder) + _files_under(problem.reference_folder)
    if (dataset := problem.spec.dataset_section) is not None:
        files.append(bank.datasets_dir / f"{dataset.recipe}.py")
    for path in files:
        for where in _lines_with_marker(path):
            report.error("files", f"fill in the marked part: {where}")


def _sections(text: str) -> dict[str, str]:
    """Split a markdown statement into {first word of heading (lowercase): body}."""
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            words = re.findall(r"[a-z]+", heading.group(1).lower())
            current = words[0] if words else ""
            sections.setdefault(current, "")
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def _number_forms(value: float) -> set[str]:
    forms = {f"{value:g}", f"{value:.2f}", f"{value:.1f}", f"{value:.3f}"}
    if 0 < value <= 1:
        forms.add(f"{value * 100:g}%")
        forms.add(f"{value * 100:g} %")
    return forms


def check_statement(report: ProblemReport, problem: Problem) -> None:
    """The statement has the required sections and names the contract, threshold and limits."""
    path = problem.statement
    text = path.read_text(encoding="utf-8")
    sections = _sections(text)
    required = REQUIRED_SECTIONS if problem.spec.runs else HAND_IN_SECTIONS
    missing = [name for name in required if name not in sections]
    if missing:
        report.error(
            "statement",
            f"{path}: missing section(s) {', '.join(m.title() for m in missing)}; "
            f"add a heading '## {missing[0].title()}'",
        )
    spec = problem.spec
    if spec.output is not None and spec.output.file not in text:
        report.error(
            "statement",
            f"{path}: never names the output file {spec.output.file!r} the spec declares",
        )
    if spec.function is not None:
        absent = [name for name in spec.function.names if name not in text]
        if absent:
            report.error(
                "statement", f"{path}: never names the function(s) {', '.join(absent)} to write"
            )
    if not any(form in text for form in _number_forms(spec.scoring.pass_)):
        report.warn(
            "statement", f"{path}: does not state the pass threshold {spec.scoring.pass_:g}"
        )
    scoring_text = sections.get("scoring", "")
    for part in spec.parts:
        if not any(f"{form} point" in scoring_text for form in _number_forms(part.points)):
            report.warn(
                "statement",
                f"{path}: the Scoring section does not state part {part.id}'s "
                f"{part.points:g} points",
            )
    for rule in all_bans(spec):
        named = rule.api or (f".{rule.attribute}" if rule.attribute else None)
        if named is not None and named not in text:
            report.warn("statement", f"{path}: never says that {named} is banned")
    limits_text = sections.get("limits", "")
    if (
        limits_text
        and spec.runs
        and not any(form in limits_text for form in _number_forms(spec.limits.wall_s))
    ):
        report.warn(
            "statement", f"{path}: the Limits section does not state {spec.limits.wall_s:g} s"
        )


def check_banned(report: ProblemReport, problem: Problem) -> None:
    """Every banned API names something that exists: a module, or an attribute of one."""
    for rule in all_bans(problem.spec):
        if rule.api is not None and (why := _unresolved(rule.api)):
            report.error("banned", f"{problem.folder / 'spec.yaml'}: banned api {rule.api}: {why}")


def _unresolved(dotted: str) -> str:
    """Why `dotted` names nothing importable ("" when it does)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        except Exception as exc:  # a module that fails to import is no API to ban
            return f"importing {'.'.join(parts[:cut])} failed: {type(exc).__name__}"
        for depth, attribute in enumerate(parts[cut:], start=cut):
            if not hasattr(found, attribute):
                return f"{'.'.join(parts[:depth])} has no attribute {attribute!r}"
            found = getattr(found, attribute)
        return ""
    return f"there is no module {parts[0]!r}"


def check_reference_layout(report: ProblemReport, problem: Problem) -> Path | None:
    """reference/<slug>/ holds only verdict folders; return the reference solution, if any."""
    folder = problem.reference_folder
    if not folder.is_dir():
        report.error("files", f"{folder}: reference folder missing; create {folder}/accepted/")
        return None
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.name in (HINTS_FOLDER, EDITORIAL_FILE):
            continue  # checked by check_teaching
        if problem.spec.function is not None and entry == folder / problem.spec.function.reference:
            continue  # the reference that gives expected values, kept apart from submissions
        if not problem.spec.runs and entry.name == ANSWER_MODULE:
            continue  # a quiz's answer functions, checked with its data
        if entry.name == CHECKS_MODULE and any(part.check for part in problem.spec.parts):
            continue  # the setter's checks of a run's other outputs, checked with its data
        if entry.is_dir() and entry.name not in VERDICT_FOLDERS:
            report.error(
                "files",
                f"{entry}: unknown verdict folder {entry.name!r}; "
                f"use one of {', '.join(VERDICT_FOLDERS)}",
            )
        elif entry.is_dir():
            for item in sorted(entry.iterdir()):
                if item.suffix != ".py" and item.name != "__pycache__":
                    report.warn("files", f"{item}: not a .py file; it is not judged")
        elif entry.name not in (EXPECTATIONS_FILE, "README.md"):
            report.warn("files", f"{entry}: unexpected file; put submissions in verdict folders")
    spec = problem.spec
    if spec.function is not None:
        reference = folder / spec.function.reference
        if not reference.is_file():
            report.error("files", f"{reference}: function.reference names a missing file")
            return None
        if reference.parent == folder / "accepted":
            return reference
        # The expected values come from a file kept apart (it may use what is banned):
        # the accepted submissions stand for the reference in the checks that judge it.
    if not spec.runs:
        return None  # a quiz's answers come from answers.py, drawn per contestant
    accepted = sorted((folder / "accepted").glob("*.py"))
    if not accepted:
        report.error("files", f"{folder / 'accepted'}: no accepted submission (the reference)")
        return None
    preferred = folder / "accepted" / "solution.py"
    return preferred if preferred in accepted else accepted[0]


def check_teaching(report: ProblemReport, problem: Problem) -> None:
    """Hints are hints/1.md, 2.md, ... without a gap, none empty; the editorial is there.

    A missing editorial or no hint is a warning (a problem is judged without them); a
    broken hints folder is an error, as hints are revealed by number.
    """
    folder = problem.reference_folder / HINTS_FOLDER
    hints = hint_files(problem)
    if folder.is_dir():
        for entry in sorted(set(folder.iterdir()) - set(hints)):
            report.error("teaching", f"{entry}: not a hint; name hints 1.md, 2.md, ...")
    numbers = [int(path.stem) for path in hints]
    if numbers != list(range(1, len(numbers) + 1)):
        report.error("teaching", f"{folder}: hints must be 1.md to {len(numbers)}.md, no gap")
    for path in hints:
        if not path.read_text(encoding="utf-8", errors="replace").strip():
            report.error("teaching", f"{path}: the hint is empty")
    if not hints:
        report.warn("teaching", f"{folder}: no hints; write hints/1.md (revealed first), ...")
    editorial = editorial_file(problem)
    if not editorial.is_file():
        report.warn("teaching", f"{editorial}: no editorial; write one (released after rounds)")
    elif not editorial.read_text(encoding="utf-8", errors="replace").startswith("# "):
        report.error("teaching", f"{editorial}: start the editorial with a '# ' title line")


def check_limits(report: ProblemReport, problem: Problem, cores: int) -> None:
    """Limits this machine cannot provide are errors."""
    limits = problem.spec.limits
    path = problem.folder / "spec.yaml"
    if limits.cpus > cores:
        report.error(
            "limits", f"{path}: limits.cpus is {limits.cpus} but this machine has {cores} core(s)"
        )
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    if limits.memory_mb > total_mb:
        report.error(
            "limits",
            f"{path}: limits.memory_mb is {limits.memory_mb} but this machine has {total_mb} MiB",
        )


def check_expectations(report: ProblemReport, problem: Problem) -> dict[str, Expectation]:
    """Load submissions.yaml; a broken one is an error, not a crash."""
    try:
        return load_expectations(problem)
    except JudgeError as exc:
        report.error("files", str(exc))
        return {}


# ---------------------------------------------------------------------------
# Data and leaks


def row_hashes(rows: Any) -> set[str]:
    """Hashes of numeric rows, as the leak scanner computes them."""
    return {leak_scan.row_hash(row) for row in leak_scan.rows_of(rows)}


def hidden_row_hashes(data: TrainPredictData) -> set[str]:
    """Hashes of the hidden rows (inputs), as the leak scanner computes them."""
    return row_hashes(data.hidden_X)


def check_data(
    report: ProblemReport, problem: Problem, bank: Bank, secret: Secret
) -> DataCheck | None:
    """Run the kind's data checks (judge.kinds); return what the leak checks need."""
    try:
        checked = get_kind(problem.spec.kind).check_data(problem, bank, secret)
    except JudgeError as exc:
        report.error("data", str(exc))
        return None
    for note in checked.notes:
        report.findings.append(Finding(Severity(note.severity), note.check, note.message))
    return checked


def _reference_copies(problem: Problem) -> dict[str, Path]:
    def normalised(path: Path) -> str:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return hashlib.sha256(path.read_bytes()).hexdigest()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    references = {normalised(p): p for p in _files_under(problem.reference_folder)}
    copies = {}
    for path in _files_under(problem.folder):
        digest = normalised(path)
        if digest in references:
            copies[str(path)] = references[digest]
    return copies


def check_leaks(report: ProblemReport, problem: Problem, data: DataCheck | None) -> None:
    """No reference under problems/, no hidden row in public rows or problem files."""
    for folder in sorted(problem.folder.rglob("*")):
        if folder.is_dir() and folder.name in VERDICT_FOLDERS:
            report.error(
                "leaks", f"{folder}: a verdict folder under problems/; move it to reference/"
            )
    for path, reference in _reference_copies(problem).items():
        report.error("leaks", f"{path} is a copy of the reference file {reference}; remove it")
    if data is None or data.hidden_rows is None:
        return
    hashes = row_hashes(data.hidden_rows)
    for where, rows in data.public_rows.items():
        found = sum(leak_scan.row_hash(row) in hashes for row in leak_scan.rows_of(rows))
        if found:
            report.error(
                "leaks",
                f"{found} hidden row(s) also appear in the {where}; "
                "the recipe must draw fresh rows for the hidden split",
            )
    widths = {len(row) for row in leak_scan.rows_of(data.hidden_rows[:1])}
    owner = {h: problem.id for h in hashes}
    for hit in leak_scan.scan([problem.folder], owner, widths):
        report.error("leaks", f"{hit['path']} holds {hit['rows']} hidden row(s); remove the file")


# ---------------------------------------------------------------------------
# Runs: verdicts, calibration, limits, determinism


def _plan(
    report: ProblemReport, problem: Problem, reference: Path | None, secret: Secret, draws: int
) -> list[_PlannedRun]:
    runs = [
        _PlannedRun(report, problem, item.path, item.label, "labelled", 0, secret)
        for item in labelled_submissions(problem)
    ]
    if reference is not None:  # the reference again on draw 0: the determinism check
        runs.append(_PlannedRun(report, problem, reference, "reference", "reference", 0, secret))
    for draw in range(1, draws):
        drawn = derive_secret(secret, f"draw-{draw}")
        if reference is not None:
            runs.append(
                _PlannedRun(report, problem, reference, "reference", "reference", draw, drawn)
            )
        runs.append(
            _PlannedRun(report, problem, problem.starter, "starter", "starter", draw, drawn)
        )
    return runs


def _record(run: _PlannedRun, result: Result) -> RunRecord:
    return RunRecord(
        label=run.label,
        role=run.role,
        draw=run.draw,
        verdict=result.verdict,
        metric=result.metric.value,
        public_metric=result.public_metric,
        score=result.score,
        wall_s=result.wall_s,
        peak_mb=result.peak_mb,
        message=result.message.splitlines()[0] if result.message else "",
    )


def _describe(record: RunRecord, metric: str) -> str:
    value = "" if record.metric is None else f", {metric} {record.metric:.4f}"
    return f"{record.verdict}{value}"


def _in_range(value: float | None, bounds: list[float] | None) -> bool:
    return bounds is None or (value is not None and bounds[0] <= value <= bounds[1])


def evaluate_runs(
    report: ProblemReport,
    problem: Problem,
    reference: Path | None,
    expectations: dict[str, Expectation],
) -> None:
    """Turn the problem's run records into verdict, calibration, limit and determinism findings."""
    spec = problem.spec
    metric = spec.metric.name
    by_label: dict[str, list[RunRecord]] = {}
    for record in report.runs:
        by_label.setdefault(record.label, []).append(record)
    items: list[LabelledSubmission] = labelled_submissions(problem)
    for item in items:
        for record in by_label.get(item.label, []):
            if record.role != "labelled":
                continue
            if record.verdict is not item.expected:
                report.error(
                    "verdicts",
                    f"{item.label} got {_describe(record, metric)}, expected {item.expected}: "
                    f"{record.message}",
                )
            wanted = expectations.get(item.label)
            if wanted is not None and not _in_range(record.metric, wanted.metric):
                report.error(
                    "verdicts",
                    f"{item.label}: {metric} {record.metric} outside the range {wanted.metric}",
                )
            if wanted is not None and not _in_range(record.score, wanted.score):
                report.error(
                    "verdicts",
                    f"{item.label}: score {record.score:g} outside the range {wanted.score}",
                )
    reference_label = None
    if reference is not None:
        reference_label = str(reference.relative_to(problem.reference_folder))
    reference_runs = [
        r
        for r in report.runs
        if r.role == "reference" or (r.role == "labelled" and r.label == reference_label)
    ]
    starter_runs = [r for r in report.runs if r.label == "starter"]
    pick = max if spec.metric.direction == "max" else min
    worst = min if spec.metric.direction == "max" else max
    ref_values = [r.metric for r in reference_runs if r.metric is not None]
    starter_values = [r.metric for r in starter_runs if r.metric is not None]
    report.reference_worst = worst(ref_values) if ref_values else None
    report.starter_best = pick(starter_values) if starter_values else None
    for record in reference_runs:
        if record.role == "reference" and record.verdict is not Verdict.AC:
            report.error(
                "calibration",
                f"the reference got {_describe(record, metric)} on draw {record.draw} "
                f"(pass {spec.scoring.pass_:g}): {record.message}",
            )
    for record in starter_runs:
        if record.draw > 0 and record.verdict is not spec.starter_verdict:
            report.error(
                "calibration",
                f"the starter got {_describe(record, metric)} on draw {record.draw}, "
                f"expected {spec.starter_verdict}: the planted defect does not hold on every draw",
            )
    if reference_runs:
        slowest = max(r.wall_s for r in reference_runs)
        peak = max(r.peak_mb for r in reference_runs)
        report.reference_wall_max_s, report.reference_peak_mb = slowest, peak
        limit = spec.limits.wall_s
        if slowest * TIME_MULTIPLIER > limit:
            report.error(
                "limits",
                f"the slowest reference run took {slowest:.1f} s; x{TIME_MULTIPLIER:g} = "
                f"{slowest * TIME_MULTIPLIER:.1f} s exceeds limits.wall_s {limit:g}; "
                "raise the limit (judge calibrate proposes one) or speed up the reference",
            )
        elif slowest * SAFETY_MULTIPLIER > limit:
            report.warn(
                "limits",
                f"the slowest reference run took {slowest:.1f} s, within {limit:g} s "
                f"but with less than x{SAFETY_MULTIPLIER:g} margin",
            )
        if slowest > REFERENCE_BUDGET_S:
            report.warn(
                "limits",
                f"the slowest reference run took {slowest:.1f} s, over the bank's "
                f"{REFERENCE_BUDGET_S:g} s budget per reference",
            )
        memory = spec.limits.memory_mb
        if peak > memory:
            report.error("limits", f"the reference peaked at {peak:.0f} MiB, over {memory} MiB")
        elif peak > MEMORY_WARNING_SHARE * memory:
            report.warn(
                "limits", f"the reference peaked at {peak:.0f} MiB, close to the {memory} MiB limit"
            )
    first = [r.metric for r in reference_runs if r.draw == 0 and r.metric is not None]
    if len(first) >= 2 and max(first) - min(first) > spec.metric.tolerance:
        report.error(
            "determinism",
            f"two reference runs on one secret gave {metric} {min(first):.4f} and "
            f"{max(first):.4f}, more than metric.tolerance {spec.metric.tolerance:g} apart; "
            "seed the reference (torch.manual_seed) or raise the tolerance",
        )


# ---------------------------------------------------------------------------
# The sandbox audit


def audit_sandbox(
    sandbox: Sandbox, hashes: dict[str, str], widths: set[int]
) -> tuple[list[dict[str, Any]], str | None]:
    """Scan every file readable inside the sandbox for hidden rows.

    Returns the hits and, when the audit could not run, the reason.
    """
    if not hashes:
        return [], None
    with run_folder(prefix="judge-audit-") as root:
        code = root / "code"
        code.mkdir()
        scanner = Path(leak_scan.__file__)
        (code / "leak_scan.py").write_bytes(scanner.read_bytes())
        (code / "hashes.json").write_text(
            json.dumps({"hashes": hashes, "widths": sorted(widths)}), encoding="utf-8"
        )
        for path in (code, *code.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        with capped_directory(root / "output", AUDIT_LIMITS.output_mb) as output:
            command = [
                sandbox.python,
                "-I",
                f"{CODE_DIR}/leak_scan.py",
                f"{CODE_DIR}/hashes.json",
                f"{OUTPUT_DIR}/found.json",
                "/",
            ]
            mounts = [Mount(code, CODE_DIR), Mount(output, OUTPUT_DIR, writable=True)]
            try:
                facts = sandbox.run(command, mounts, AUDIT_LIMITS, {})
            except SandboxError as exc:
                return [], f"the sandbox failed: {exc}"
            if facts.timed_out or facts.exit_code != 0:
                tail = facts.stderr_tail.strip().splitlines()[-1:] or ["no output"]
                return [], f"the scanner failed (exit {facts.exit_code}): {tail[0]}"
            try:
                found = json.loads(read_untrusted_file(output / "found.json", 16 << 20))
            except (InvalidOutput, ValueError) as exc:
                return [], f"the scanner's answer is unreadable: {exc}"
    return [hit for hit in found if isinstance(hit, dict)], None


# ---------------------------------------------------------------------------
# The whole bank


def static_checks(
    bank: Bank, folder: Path, secret: Secret, draws: int, cores: int
) -> Plan | ProblemReport:
    """Run every check that needs no sandbox.

    Returns the problem's plan of runs, or only its report when nothing can be judged.
    """
    report = ProblemReport(slug=folder.name, draws=draws)
    try:
        problem = load_problem(folder, bank.reference_dir)
    except JudgeError as exc:
        report.error("spec", str(exc))
        return report
    spec = problem.spec
    report.metric, report.direction = spec.metric.name, spec.metric.direction
    report.threshold = spec.scoring.pass_
    if spec.runs:
        report.wall_limit_s, report.memory_limit_mb = spec.limits.wall_s, spec.limits.memory_mb
    check_statement(report, problem)
    check_banned(report, problem)
    check_markers(report, problem, bank)
    reference = check_reference_layout(report, problem)
    check_teaching(report, problem)
    if spec.runs:
        check_limits(report, problem, cores)
    data = check_data(report, problem, bank, secret)
    check_leaks(report, problem, data)
    if any(f.check in ("spec", "data") and f.severity is Severity.ERROR for f in report.findings):
        return report  # nothing can be judged
    runs = _plan(report, problem, reference, secret, draws)
    return Plan(report, problem, reference, runs, data)


def validate_bank(
    bank: Bank,
    slugs: list[str] | None,
    sandbox: Sandbox,
    secret: Secret,
    options: ValidateOptions,
    progress: Progress | None = None,
) -> BankReport:
    """Validate the named problems (default: every folder under problems/) and report."""
    started = time.monotonic()
    folders = bank.folders()
    if slugs:
        by_name = {f.name: f for f in folders}
        folders = [by_name.get(s, bank.problems_dir / s) for s in slugs]
    cores = len(usable_cores())
    bank_report = BankReport(problems=[])
    planned: list[Plan] = []
    for folder in folders:
        outcome = static_checks(bank, folder, secret, options.draws, cores)
        if isinstance(outcome, Plan):
            planned.append(outcome)
            bank_report.problems.append(outcome.report)
        else:
            bank_report.problems.append(outcome)
    runs = [run for item in planned for run in item.runs]
    audit = options.audit_sandbox and sandbox.isolates
    total = len(runs) + int(audit)
    done = 0

    # One Judge per secret draw: the runs of a draw share its memo of expected answers
    # (a function problem's reference runs once per draw, not once per labelled file).
    judges = {run.secret.value: Judge(bank, sandbox, run.secret) for run in runs}
    # The reference's runs measure the limits, which must hold for a cold start (a warm
    # pool may be empty): they never go to a warm slot. The other files may.
    cold_judges = {value: judge.on(cold(sandbox)) for value, judge in judges.items()}
    references = {item.problem.id: item.reference for item in planned}

    def load_one(run: _PlannedRun, cpuset: tuple[int, ...]) -> None:
        judges[run.secret.value].load(run.problem)

    # Each draw's truth (a function problem's expected answers) before any run; a
    # broken reference is reported by each run it breaks, as it is judged.
    if progress is not None:
        progress(done, total, "computing expected answers")
    first_of_draw = {(run.problem.id, run.secret.value): run for run in runs}
    for _run, loaded in run_pinned(load_one, list(first_of_draw.values()), options.jobs):
        if isinstance(loaded, BaseException) and not isinstance(loaded, JudgeError):
            raise loaded

    def judge_one(run: _PlannedRun, cpuset: tuple[int, ...]) -> Result:
        pinned = cores_for(cpuset, run.problem.spec.cpus)
        measures_limits = run.path == references[run.problem.id]
        judge = (cold_judges if measures_limits else judges)[run.secret.value]
        outcome = judge.judge(run.problem, run.path, cpuset=pinned)
        return as_result(outcome, run.problem)

    for run, judged in run_pinned(judge_one, runs, options.jobs):
        done += 1
        if progress is not None:
            progress(done, total, f"{run.problem.id}: {run.label} (draw {run.draw})")
        if isinstance(judged, InvalidSource):
            run.report.error("verdicts", f"{run.label}: cannot be judged: {judged}")
        elif isinstance(judged, JudgeError):
            run.report.error("verdicts", f"{run.label} (draw {run.draw}): {judged}")
        elif isinstance(judged, BaseException):
            raise judged
        else:
            run.report.runs.append(_record(run, judged))
            if run.draw == 0:  # what the banned-API check could not read, once per file
                for flag in judged.details.get("flags", []):
                    run.report.warn("banned", f"{run.label}: the check cannot read {flag}")
    for item in planned:
        item.report.runs.sort(key=lambda r: (r.role, r.label, r.draw))
        evaluate_runs(
            item.report, item.problem, item.reference, check_expectations(item.report, item.problem)
        )
    if audit:
        hashes: dict[str, str] = {}
        widths: set[int] = set()
        for item in planned:
            if item.data is not None and item.data.hidden_rows is not None:
                rows = item.data.hidden_rows
                hashes.update({h: item.problem.id for h in row_hashes(rows)})
                widths |= {len(r) for r in leak_scan.rows_of(rows[:1])}
        if progress is not None:
            progress(done, total, f"auditing the {sandbox.name} sandbox for hidden rows")
        hits, failure = audit_sandbox(sandbox, hashes, widths)
        if failure:
            bank_report.findings.append(
                Finding(Severity.ERROR, "leaks", f"the sandbox audit could not run: {failure}")
            )
        reports = {r.slug: r for r in bank_report.problems}
        for hit in hits:
            target = reports.get(str(hit.get("problem")))
            message = (
                f"{hit.get('path')} inside the {sandbox.name} sandbox holds {hit.get('rows')} "
                "hidden row(s): a submission could read the answers"
            )
            if target is not None:
                target.error("leaks", message)
        done += 1
        if progress is not None:
            progress(done, total, "audit done")
    elif options.audit_sandbox:
        bank_report.findings.append(
            Finding(
                Severity.WARNING,
                "leaks",
                f"the {sandbox.name} sandbox does not isolate; the sandbox audit was skipped",
            )
        )
    bank_report.seconds = time.monotonic() - started
    return bank_report


# ---------------------------------------------------------------------------
# Calibrating limits

MEMORY_MULTIPLIER = 2.0
MEMORY_STEP_MB = 128
WALL_STEP_S = 5


@dataclass(frozen=True)
class Calibration:
    """The reference's runs on this machine and the limits they suggest."""

    slug: str
    runs: list[RunRecord]
    wall_s: float
    memory_mb: int
    current_wall_s: float
    current_memory_mb: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["runs"] = [{**asdict(r), "verdict": str(r.verdict)} for r in self.runs]
        return data


def propose_limits(walls: list[float], peaks: list[float]) -> tuple[float, int]:
    """Kattis-style: wall = slowest x2, memory = peak x2, rounded up to whole steps."""
    slowest = max(walls)
    wall = max(WALL_STEP_S, WALL_STEP_S * -(-slowest * TIME_MULTIPLIER // WALL_STEP_S))
    peak = max(peaks)
    memory = max(512, MEMORY_STEP_MB * int(-(-peak * MEMORY_MULTIPLIER // MEMORY_STEP_MB)))
    return float(wall), memory


def calibrate_problem(
    problem: Problem,
    bank: Bank,
    sandbox: Sandbox,
    secret: Secret,
    runs: int,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Calibration:
    """Run the reference `runs` times (one per secret draw) and propose time and memory limits.

    Raises SpecError when the problem has no reference or the reference is not accepted.
    """
    report = ProblemReport(slug=problem.id, draws=runs)
    reference = check_reference_layout(report, problem)
    if reference is None:
        raise SpecError(next(f.message for f in report.findings if f.severity is Severity.ERROR))
    planned = [
        _PlannedRun(
            report,
            problem,
            reference,
            "reference",
            "reference",
            draw,
            secret if draw == 0 else derive_secret(secret, f"draw-{draw}"),
        )
        for draw in range(runs)
    ]

    def judge_one(run: _PlannedRun, cpuset: tuple[int, ...]) -> Result:
        pinned = cores_for(cpuset, problem.spec.cpus)
        return run_submission(problem, run.path, sandbox, run.secret, bank, cpuset=pinned)

    records = []
    for run, judged in run_pinned(judge_one, planned, jobs):
        if isinstance(judged, BaseException):
            raise judged
        record = _record(run, judged)
        if record.verdict is not Verdict.AC:
            raise SpecError(
                f"{reference}: the reference got {record.verdict} on draw {run.draw}: "
                f"{record.message}"
            )
        records.append(record)
        if progress is not None:
            progress(len(records), runs, f"{problem.id}: reference, draw {run.draw}")
    records.sort(key=lambda r: r.draw)
    wall, memory = propose_limits([r.wall_s for r in records], [r.peak_mb for r in records])
    limits = problem.spec.limits
    return Calibration(problem.id, records, wall, memory, limits.wall_s, limits.memory_mb)
