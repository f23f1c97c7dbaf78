"""`judge new`: the scaffold fails validation on each marker, then passes once they are filled."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.errors import UsageError
from judge.scaffold import scaffold_problem
from judge.validate import MARKER, Severity, ValidateOptions, validate_bank
from tests.backends import get_backend

SECRET = Secret(b"scaffold-test-secret", "test")


def _empty_bank(root: Path) -> Bank:
    for part in ("problems", "reference", "datasets"):
        (root / part).mkdir(parents=True)
    return Bank(root)


def _fill_in(files: list[Path]) -> None:
    """Do what a setter does, minimally: keep the scaffold's content, drop every marker line."""
    for path in files:
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if MARKER not in line))


def test_scaffold_refuses_to_overwrite_and_leaves_nothing_behind(tmp_path: Path) -> None:
    bank = _empty_bank(tmp_path)
    scaffold_problem(bank, "clouds", "train-predict")
    with pytest.raises(UsageError, match="already exists"):
        scaffold_problem(bank, "clouds", "function")
    (bank.datasets_dir / "taken_recipe.py").write_text("# someone else's recipe\n")
    with pytest.raises(UsageError, match=r"taken_recipe\.py already exists"):
        scaffold_problem(bank, "taken-recipe", "function")
    assert not (bank.problems_dir / "taken-recipe").exists()


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.parametrize("kind", ["train-predict", "function"])
def test_a_scaffold_fails_on_its_markers_then_validates_once_filled_in(
    tmp_path: Path, kind: str
) -> None:
    sandbox = get_backend("docker")
    bank = _empty_bank(tmp_path)
    written = scaffold_problem(bank, "fresh-problem", kind)  # type: ignore[arg-type]
    options = ValidateOptions(draws=2, jobs=2, audit_sandbox=False)

    before = validate_bank(bank, None, sandbox, SECRET, options).problems[0]
    marker_errors = [
        f for f in before.findings if f.severity is Severity.ERROR and MARKER in f.message
    ]
    assert len(marker_errors) == len(written)  # one per file, each naming file and line
    assert all("fill in the marked part" in f.message for f in marker_errors)
    assert {f.check for f in before.findings if f.severity is Severity.ERROR} == {"files"}

    _fill_in(written)
    after = validate_bank(bank, None, sandbox, SECRET, options).problems[0]
    assert after.ok, after.findings
    assert after.reference_margin is not None and after.reference_margin >= 0
    assert after.starter_margin is not None and after.starter_margin > 0
