"""Notebook submissions: code cells in order become the script; magics are refused by cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.errors import InvalidSource
from judge.notebooks import notebook_to_script
from judge.runner import read_source, run_submission
from judge.sandbox.process import ProcessSandbox
from judge.verdicts import Verdict

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
BANK = Bank(Path(__file__).parent / "fixtures" / "bank")


def test_code_cells_become_the_script_in_order_and_outputs_are_ignored() -> None:
    script = read_source(NOTEBOOKS / "threshold_solution.ipynb")
    assert script.index("import numpy") < script.index("np.load") < script.index("np.save")
    assert "Predict with the rule" not in script  # markdown
    assert "noise that must be ignored" not in script  # a stored output
    compile(script, "notebook", "exec")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("with_magic.ipynb", r"cell 2, line 1: '%pip install lightgbm' is an IPython magic"),
        ("with_shell_assignment.ipynb", r"cell 1, line 1: 'files = !ls /sandbox/data'"),
        ("not_json.ipynb", r"not a readable Jupyter notebook"),
        ("no_code.ipynb", r"has no code cells"),
    ],
)
def test_unusable_notebooks_are_refused_with_a_clear_message(name: str, message: str) -> None:
    with pytest.raises(InvalidSource, match=message):
        read_source(NOTEBOOKS / name)


def test_a_percent_line_inside_a_string_literal_is_python_not_a_magic() -> None:
    import nbformat

    cell = 'template = """\n%d rows\n!done\n"""\nprint(template % 3)'
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    script = notebook_to_script(nbformat.writes(notebook), "strings.ipynb")
    assert "%d rows" in script


def test_a_notebook_is_judged_like_a_script() -> None:
    problem = BANK.problem("threshold")
    secret = Secret(b"notebook-test", "test")
    result = run_submission(
        problem, NOTEBOOKS / "threshold_solution.ipynb", ProcessSandbox(), secret, BANK
    )
    assert result.verdict is Verdict.AC, result.message
