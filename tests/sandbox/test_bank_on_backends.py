"""The real problem bank, judged in the isolating sandboxes: every labelled submission
(starter, accepted/, wrong_answer/, ...) gets its verdict with torch running inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bank import Bank, LabelledSubmission, labelled_submissions
from judge.data import Secret
from judge.runner import run_submission
from judge.sandbox.base import Sandbox

ROOT = Path(__file__).resolve().parent.parent.parent
BANK = Bank(ROOT)
SECRET = Secret(b"bank-on-backends-2f8e", "test")
CASES = [
    pytest.param(problem.id, item, id=f"{problem.id}:{item.label}")
    for problem in BANK.problems()
    for item in labelled_submissions(problem)
]


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "item"), CASES)
def test_labelled_submission_gets_its_verdict(
    isolating_backend: Sandbox, slug: str, item: LabelledSubmission
) -> None:
    result = run_submission(BANK.problem(slug), item.path, isolating_backend, SECRET, BANK)
    assert result.verdict is item.expected, result.message
