"""The real problem bank in the bubblewrap sandbox: every problem's reference is accepted
with torch running inside. (`judge validate`, run by CI, judges every labelled submission
of every problem on docker.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.runner import run_submission
from judge.validate import ProblemReport, check_reference_layout
from judge.verdicts import Verdict
from tests.backends import get_backend

ROOT = Path(__file__).resolve().parent.parent.parent
BANK = Bank(ROOT)
SECRET = Secret(b"bank-on-backends-2f8e", "test")


# A quiz runs nothing: no sandbox ever sees it (tests/test_quiz.py judges the drills).
PROGRAMS = [slug for slug in BANK.slugs() if BANK.problem(slug).spec.runs]


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.parametrize("slug", PROGRAMS)
def test_the_reference_is_accepted_in_bubblewrap(slug: str) -> None:
    sandbox = get_backend("bwrap")
    problem = BANK.problem(slug)
    reference = check_reference_layout(ProblemReport(slug=slug, draws=1), problem)
    assert reference is not None
    result = run_submission(problem, reference, sandbox, SECRET, BANK)
    assert result.verdict is Verdict.AC, result.message
