"""The bank's shape: every problem passes the checks that need no sandbox, has labelled
submissions beyond the starter, hints and an editorial, and has its row in the index
problems/README.md.

The checks that run submissions (verdicts, calibration, limits, the sandbox audit) are
`judge validate` over the whole bank: `make validate`, run by CI after the tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from judge.bank import Bank, editorial_file, hint_files, labelled_submissions
from judge.batch import usable_cores
from judge.data import Secret
from judge.validate import Plan, Severity, static_checks

ROOT = Path(__file__).resolve().parents[2]
BANK = Bank(ROOT)
SECRET = Secret(b"bank-shape-tests", "test")


@pytest.mark.parametrize("folder", BANK.folders(), ids=lambda f: f.name)
def test_every_problem_passes_the_checks_that_need_no_sandbox(folder: Path) -> None:
    outcome = static_checks(BANK, folder, SECRET, draws=1, cores=len(usable_cores()))
    report = outcome.report if isinstance(outcome, Plan) else outcome
    errors = [f"{f.check}: {f.message}" for f in report.findings if f.severity is Severity.ERROR]
    assert not errors


PROGRAMS = [slug for slug in BANK.slugs() if BANK.problem(slug).spec.runs]
QUIZZES = [slug for slug in BANK.slugs() if not BANK.problem(slug).spec.runs]


@pytest.mark.parametrize("slug", PROGRAMS)
def test_every_problem_has_a_labelled_wrong_submission_besides_the_starter(slug: str) -> None:
    labels = [item.label for item in labelled_submissions(BANK.problem(slug))]
    assert any(label.startswith("accepted/") for label in labels)
    assert any(not label.startswith(("accepted/", "starter")) for label in labels), labels


EDITORIAL_SECTIONS = ("## The ", "## The fix", "## Why it works", "## Wrong fixes", "## Take-away")


@pytest.mark.parametrize("slug", PROGRAMS)
def test_every_problem_has_hints_and_an_editorial_that_covers_its_wrong_fixes(slug: str) -> None:
    problem = BANK.problem(slug)
    assert len(hint_files(problem)) >= 2, f"{slug}: write at least two hints"
    text = editorial_file(problem).read_text(encoding="utf-8")
    assert text.startswith("# Editorial: "), slug
    assert all(section in text for section in EDITORIAL_SECTIONS), slug
    labels = [item.label for item in labelled_submissions(problem)]
    wrong = [label for label in labels if not label.startswith(("accepted/", "starter"))]
    bullets = text.split("## Wrong fixes", 1)[1].split("\n## ", 1)[0].count("\n- ")
    assert bullets >= len(wrong), f"{slug}: {len(wrong)} labelled wrong files, {bullets} bullets"


@pytest.mark.parametrize("slug", QUIZZES)
def test_every_quiz_has_a_hint_and_an_editorial_section_per_item(slug: str) -> None:
    problem = BANK.problem(slug)
    assert hint_files(problem), f"{slug}: write a hint"
    text = editorial_file(problem).read_text(encoding="utf-8")
    assert text.startswith("# Editorial: "), slug
    headings = set(re.findall(r"^## (\S+)", text, flags=re.MULTILINE))
    missing = [part.id for part in problem.spec.scored_parts if part.id not in headings]
    assert not missing, f"{slug}: no editorial section for {missing}"


def _index_rows() -> dict[str, list[str]]:
    rows = {}
    for line in (BANK.problems_dir / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        link = re.fullmatch(r"\[([a-z0-9-]+)\]\(([a-z0-9-]+)/statement\.md\)", cells[0])
        if link:
            assert link.group(1) == link.group(2), line
            rows[link.group(1)] = cells
    return rows


def test_the_index_lists_every_problem_with_its_section_kind_and_difficulty() -> None:
    rows = _index_rows()
    assert sorted(rows) == BANK.slugs()
    for slug, cells in rows.items():
        spec = BANK.problem(slug).spec
        assert cells[1] == str(spec.section), slug
        assert cells[2] == spec.kind, slug
        assert cells[3] == spec.difficulty, slug
        assert len(cells[4]) > 10, f"{slug}: the one-line lesson is missing"
