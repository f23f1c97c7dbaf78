"""Hints and editorials under reference/<slug>/: what validation says of their layout,
and that they never change the problem's content digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from judge.bank import Bank, problem_digest
from judge.validate import ProblemReport, Severity, check_reference_layout, check_teaching

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    shutil.copytree(FIXTURE_BANK, tmp_path / "bank")
    return Bank(tmp_path / "bank")


def findings(bank: Bank) -> list[tuple[Severity, str]]:
    problem = bank.problem("add-arrays")
    report = ProblemReport(slug="add-arrays", draws=1)
    check_reference_layout(report, problem)
    check_teaching(report, problem)
    return [(f.severity, f.message) for f in report.findings]


def test_numbered_hints_and_a_titled_editorial_pass(bank: Bank) -> None:
    assert findings(bank) == []


@pytest.mark.parametrize(
    ("change", "severity", "says"),
    [
        (lambda r: (r / "hints" / "2.md").rename(r / "hints" / "3.md"), Severity.ERROR, "no gap"),
        (lambda r: (r / "hints" / "1.md").write_text("  \n"), Severity.ERROR, "is empty"),
        (lambda r: (r / "hints" / "notes.txt").write_text("x"), Severity.ERROR, "not a hint"),
        (lambda r: (r / "editorial.md").write_text("no title\n"), Severity.ERROR, "title line"),
        (lambda r: (r / "editorial.md").unlink(), Severity.WARNING, "no editorial"),
        (lambda r: shutil.rmtree(r / "hints"), Severity.WARNING, "no hints"),
    ],
    ids=["gap", "empty", "stray-file", "untitled", "no-editorial", "no-hints"],
)
def test_a_broken_or_missing_hint_or_editorial_is_named(
    bank: Bank, change: object, severity: Severity, says: str
) -> None:
    change(bank.reference_dir / "add-arrays")  # type: ignore[operator]
    found = findings(bank)
    assert len(found) == 1 and found[0][0] is severity and says in found[0][1], found


def test_hints_and_the_editorial_do_not_change_the_content_digest(bank: Bank) -> None:
    problem = bank.problem("add-arrays")
    before = problem_digest(problem, bank)
    (problem.reference_folder / "editorial.md").write_text("# Editorial: rewritten\n")
    (problem.reference_folder / "hints" / "3.md").write_text("One more hint.\n")
    assert problem_digest(problem, bank) == before
    (problem.reference_folder / "accepted" / "solution.py").write_text("# changed\n")
    assert problem_digest(problem, bank) != before


def test_judge_hint_reveals_one_hint_at_a_time_and_remembers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from judge.cli import app

    log = tmp_path / "state" / "hints.json"
    monkeypatch.setenv("JUDGE_BANK", str(FIXTURE_BANK))
    monkeypatch.setenv("JUDGE_HINT_LOG", str(log))
    cli = CliRunner()
    nothing = cli.invoke(app, ["hint", "add-arrays", "--again"])
    assert nothing.exit_code == 0 and "no hint of add-arrays revealed yet" in nothing.output
    first = cli.invoke(app, ["hint", "add-arrays"])
    assert first.exit_code == 0 and "Hint 1 of 2" in first.output
    assert "Hint 2" not in first.output
    second = cli.invoke(app, ["hint", "add-arrays"])
    assert "Hint 2 of 2" in second.output and "Hint 1" not in second.output
    done = cli.invoke(app, ["hint", "add-arrays"])
    assert done.exit_code == 0 and "every hint of add-arrays is revealed" in done.output
    both = cli.invoke(app, ["hint", "add-arrays", "--again"])
    assert "Hint 1 of 2" in both.output and "Hint 2 of 2" in both.output
    assert list(json.loads(log.read_text())) == ["add-arrays"]
    assert len(json.loads(log.read_text())["add-arrays"]) == 2

    editorial = cli.invoke(app, ["editorial", "add-arrays"])
    assert editorial.exit_code == 0 and "Editorial: add-arrays" in editorial.output
    unknown = cli.invoke(app, ["hint", "no-such-problem"])
    assert unknown.exit_code != 0 and "no-such-problem" in unknown.output
    log.write_text("[not an object")
    broken = cli.invoke(app, ["hint", "add-arrays"])
    assert broken.exit_code == 2 and "cannot read the hint log" in broken.output
