"""Validation: a healthy problem passes; one broken clone per check is caught with its message.

The clones are made from tests/fixtures/validate/problems/halfplane: each breaks
exactly one thing (the table CASES), and one validation of the whole bank, on the
real docker sandbox, must report each fault under the right check.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.validate import (
    BankReport,
    ProblemReport,
    RunRecord,
    Severity,
    ValidateOptions,
    _sections,
    evaluate_runs,
    propose_limits,
    validate_bank,
)
from judge.verdicts import Verdict
from tests.backends import get_backend

FIXTURE = Path(__file__).parent / "fixtures" / "validate"
SECRET = Secret(b"validation-test-secret", "test")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _clone(bank: Path, slug: str) -> tuple[Path, Path]:
    problem, reference = bank / "problems" / slug, bank / "reference" / slug
    shutil.copytree(bank / "problems" / "halfplane", problem)
    shutil.copytree(bank / "reference" / "halfplane", reference)
    _edit(problem / "spec.yaml", "id: halfplane", f"id: {slug}")
    return problem, reference


Mutation = Callable[[Path, Path], None]


def starter_passes(problem: Path, reference: Path) -> None:
    (problem / "starter.py").write_text(
        (reference / "accepted" / "solution.py").read_text().replace("0.1 *", "0.05 *")
    )


def reference_fails_a_draw(problem: Path, reference: Path) -> None:
    _edit(
        problem / "spec.yaml",
        "params: {noise: 0.1}",
        "params: {}\n  secret_params:\n    noise: {low: 0.0, high: 3.0}",
    )


def leaked_hidden_row(problem: Path, reference: Path) -> None:
    _edit(
        problem / "spec.yaml",
        "params: {noise: 0.1}",
        "params: {noise: 0.1, copy_rows: 5, n_train: 200}",
    )


def hidden_rows_in_the_image(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "recipe: halfplane", "recipe: scipy_iris")
    _edit(problem / "spec.yaml", "params: {noise: 0.1}", "params: {}")
    _edit(problem / "spec.yaml", "n_train: 200", "n_train: 50")
    _edit(problem / "spec.yaml", "n_hidden: 600", "n_hidden: 100")


def too_tight_time_limit(problem: Path, reference: Path) -> None:
    solution = reference / "accepted" / "solution.py"
    solution.write_text("import time\ntime.sleep(2)\n" + solution.read_text())
    _edit(problem / "spec.yaml", "wall_s: 20", "wall_s: 3.5")


def missing_statement_section(problem: Path, reference: Path) -> None:
    _edit(problem / "statement.md", "## Limits", "## Resources")


def unknown_spec_field(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "difficulty: easy", "difficulty: easy\ncolour: red")


def wrong_type(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "n_train: 200", "n_train: many")


def missing_starter(problem: Path, reference: Path) -> None:
    (problem / "starter.py").unlink()


def impossible_limit(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "cpus: 1", "cpus: 64")


def recipe_crashes(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "recipe: halfplane", "recipe: crashing")
    _edit(problem / "spec.yaml", "params: {noise: 0.1}", "params: {}")


def recipe_wrong_shape(problem: Path, reference: Path) -> None:
    _edit(problem / "spec.yaml", "params: {noise: 0.1}", "params: {noise: 0.1, label_columns: 2}")


def unknown_verdict_folder(problem: Path, reference: Path) -> None:
    (reference / "wrong_answer").rename(reference / "wrong_answers")


def reference_under_problems(problem: Path, reference: Path) -> None:
    shutil.copyfile(reference / "accepted" / "solution.py", problem / "solution.py")


def marker_left(problem: Path, reference: Path) -> None:
    _edit(problem / "statement.md", "## Task", "## Task\n\nTODO(setter): write the story.")


# slug -> (mutation, check, pattern the finding's message must match)
CASES: dict[str, tuple[Mutation, str, str]] = {
    "starter-passes": (starter_passes, "calibration", r"starter got AC.* expected WA"),
    "reference-fails-a-draw": (reference_fails_a_draw, "calibration", r"reference got WA.* on draw 1 "),
    "leaked-hidden-row": (leaked_hidden_row, "leaks", r"5 hidden row\(s\) also appear in the public training rows"),
    "hidden-rows-in-the-image": (hidden_rows_in_the_image, "leaks", r"iris\.txt inside the docker sandbox holds \d+ hidden row"),
    "too-tight-time-limit": (too_tight_time_limit, "limits", r"x2 = .* exceeds limits\.wall_s 3\.5"),
    "missing-statement-section": (missing_statement_section, "statement", r"missing section\(s\) Limits"),
    "unknown-spec-field": (unknown_spec_field, "spec", r"spec\.yaml: colour: unknown field"),
    "wrong-type": (wrong_type, "spec", r"dataset\.n_train: Input should be a valid integer"),
    "missing-starter": (missing_starter, "spec", r"starter\.py: required file missing"),
    "impossible-limit": (impossible_limit, "limits", r"limits\.cpus is 64 but this machine has \d+ core"),
    "recipe-crashes": (recipe_crashes, "data", r"crashing\.py: recipe crashed: ZeroDivisionError"),
    "recipe-wrong-shape": (recipe_wrong_shape, "data", r"returned y of shape \(800, 2\); the output contract needs \(n\)"),
    "unknown-verdict-folder": (unknown_verdict_folder, "files", r"unknown verdict folder 'wrong_answers'"),
    "reference-under-problems": (reference_under_problems, "leaks", r"solution\.py is a copy of the reference file"),
    "marker-left": (marker_left, "files", r"statement\.md:\d+: TODO\(setter\): write the story"),
}  # fmt: skip


@pytest.fixture(scope="module")
def broken_bank(tmp_path_factory: pytest.TempPathFactory) -> BankReport:
    sandbox = get_backend("docker")
    root = tmp_path_factory.mktemp("validate") / "bank"
    shutil.copytree(FIXTURE, root)
    for slug, (mutation, _, _) in CASES.items():
        mutation(*_clone(root, slug))
    options = ValidateOptions(draws=2, jobs=2)
    return validate_bank(Bank(root), None, sandbox, SECRET, options)


def _report(bank: BankReport, slug: str) -> ProblemReport:
    return next(p for p in bank.problems if p.slug == slug)


@pytest.mark.slow
@pytest.mark.docker
def test_the_healthy_fixture_problem_passes_validation(broken_bank: BankReport) -> None:
    report = _report(broken_bank, "halfplane")
    assert report.ok, report.findings
    assert report.warnings == 0, report.findings
    assert len(report.runs) == 3 + 1 + 2  # labelled, reference again, one more draw x 2
    assert report.reference_margin is not None and report.reference_margin > 0.1
    assert report.starter_margin is not None and report.starter_margin > 0.2


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.parametrize("slug", list(CASES))
def test_each_broken_problem_is_caught_with_the_right_message(
    broken_bank: BankReport, slug: str
) -> None:
    _, check, pattern = CASES[slug]
    report = _report(broken_bank, slug)
    assert not report.ok
    matching = [
        f
        for f in report.findings
        if f.severity is Severity.ERROR and f.check == check and re.search(pattern, f.message)
    ]
    assert matching, f"no {check} error matching {pattern!r} in {report.findings}"


@pytest.mark.slow
@pytest.mark.docker
def test_validation_goes_on_after_broken_problems(broken_bank: BankReport) -> None:
    assert len(broken_bank.problems) == len(CASES) + 1
    assert not broken_bank.ok
    assert broken_bank.errors >= len(CASES)


# ---------------------------------------------------------------------------
# Logic, without sandboxes


def test_statement_sections_are_found_by_first_heading_word() -> None:
    text = "# Title\n\n## Task\nx\n### Input files\ny\n## Output\n## Scoring rules\n## Limits\n"
    assert set(_sections(text)) == {"title", "task", "input", "output", "scoring", "limits"}


def test_proposed_limits_double_the_slowest_run_and_round_up() -> None:
    assert propose_limits([3.2, 4.1, 3.9], [300.0, 310.0]) == (10.0, 640)
    assert propose_limits([0.3], [6.0]) == (5.0, 512)


def _record(label: str, role: str, draw: int, verdict: Verdict, metric: float) -> RunRecord:
    return RunRecord(label, role, draw, verdict, metric, metric, 0.0, 1.0, 100.0, "")


def test_determinism_beyond_the_tolerance_is_an_error() -> None:
    problem = Bank(FIXTURE).problem("halfplane")
    reference = problem.reference_folder / "accepted" / "solution.py"
    report = ProblemReport(slug="halfplane", draws=1, threshold=0.8, direction="max")
    report.runs = [
        _record("accepted/solution.py", "labelled", 0, Verdict.AC, 0.95),
        _record("reference", "reference", 0, Verdict.AC, 0.90),
        _record("starter", "labelled", 0, Verdict.WA, 0.5),
        _record("wrong_answer/second_feature.py", "labelled", 0, Verdict.WA, 0.5),
    ]
    evaluate_runs(report, problem, reference, {})
    messages = [f.message for f in report.findings if f.check == "determinism"]
    assert messages and "0.9000 and 0.9500" in messages[0]
    assert report.reference_worst == 0.90 and report.starter_best == 0.5
    assert report.reference_margin == pytest.approx(0.1)
    assert report.starter_margin == pytest.approx(0.3)


def test_margins_follow_the_metric_direction() -> None:
    report = ProblemReport(slug="x", draws=1, threshold=0.5, direction="min")
    report.reference_worst, report.starter_best = 0.3, 0.9
    assert report.reference_margin == pytest.approx(0.2)
    assert report.starter_margin == pytest.approx(0.4)


def test_validation_computes_each_draws_expected_answers_before_any_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from judge.kinds import function as function_kind
    from judge.sandbox.base import RunFacts
    from judge.sandbox.fake import FakeSandbox

    references: list[Path] = []
    real = function_kind.reference_answers

    def counted(problem: object, calls_path: Path) -> list[object]:
        references.append(calls_path)
        return real(problem, calls_path)  # type: ignore[arg-type]

    monkeypatch.setattr(function_kind, "reference_answers", counted)
    seen_at_run: list[int] = []
    facts = RunFacts(0, None, 0.5, 0.4, 40.0, False, False, False)
    sandbox = FakeSandbox(facts, lambda mounts: seen_at_run.append(len(references)))
    bank = Bank(Path(__file__).parent / "fixtures" / "bank")
    options = ValidateOptions(draws=3, jobs=1, audit_sandbox=False)
    report = validate_bank(bank, ["add-arrays"], sandbox, SECRET, options)
    assert len(report.problems[0].runs) == 2 + 1 + 2 * 2  # labelled, reference, two draws
    assert len(references) == 3 and set(seen_at_run) == {3}


def test_validation_measures_the_reference_cold_behind_a_warm_pool() -> None:
    """The limits come from the reference's runs, so they never go to a warm slot."""
    from collections.abc import Sequence

    from judge.sandbox.base import CODE_DIR, Limits, Mount, RunFacts
    from judge.sandbox.fake import FakeSandbox
    from judge.sandbox.pool import CoreIdleness, WarmPool
    from judge.sandbox.slots import Handoff, SlotShape, SlotState

    facts = RunFacts(0, None, 0.5, 0.4, 40.0, False, False, False)
    seen: list[tuple[str, str]] = []  # (how it ran, the submission's text)

    def submitted(mounts: Sequence[Mount]) -> str:
        code = next(m.source for m in mounts if m.target == CODE_DIR)
        return (code / "submission.py").read_text()

    class Slot:
        def state(self) -> SlotState:
            return SlotState.READY

        def agent_log(self) -> str:
            return ""

        def became_ready(self) -> bool:
            return True

        def memory_bytes(self) -> int | None:
            return None

        def run(self, handoff: Handoff, mounts: Sequence[Mount], limits: Limits) -> RunFacts:
            seen.append(("warm", submitted(mounts)))
            return facts

        def destroy(self) -> None:
            pass

    class Backend(FakeSandbox):
        def run(self, command: object, mounts: Sequence[Mount], *args: object) -> RunFacts:
            seen.append(("cold", submitted(mounts)))
            return facts

        def start_slot(self, shape: SlotShape, cores: object, mounts: object) -> Slot:
            return Slot()

    bank = Bank(Path(__file__).parent / "fixtures" / "bank")
    reference = (bank.reference_dir / "add-arrays" / "accepted" / "solution.py").read_text()
    options = ValidateOptions(draws=3, jobs=1, audit_sandbox=False)
    shape = SlotShape()
    idle = CoreIdleness(Path("/nonexistent"))
    with WarmPool(Backend(facts), 1, shape, (0, 1), wait_s=5, idleness=idle) as pool:
        validate_bank(bank, ["add-arrays"], pool, SECRET, options)
    assert len(seen) == 2 + 1 + 2 * 2
    assert {how for how, text in seen if text == reference} == {"cold"}
    assert {how for how, text in seen if text != reference} == {"warm"}
