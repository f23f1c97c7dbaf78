"""Notebooks built from hostile fragments: a script that can be written, or a clean refusal.

notebook_to_script runs in the judge's own process on untrusted input, so whatever the
notebook holds it must return a script that encodes to UTF-8 without NUL, or raise
InvalidSource with a one-line message free of control characters, quickly; and a cell
that parses as Python is never refused as a magic.
"""

from __future__ import annotations

import ast
import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judge.errors import InvalidSource
from judge.notebooks import notebook_to_script
from judge.text import printable

# Pieces of cell source: Python, magics and shell escapes, magic-looking lines that are
# Python (in strings, continuing brackets or a backslash), text no script may hold,
# terminal escapes and rich markup a message might quote, and very long lines.
FRAGMENTS = [
    "import numpy as np",
    "x = 1",
    "print(x % 2)",
    "def f(a):\n    return a",
    "if x:\n    y = 2",
    "%pip install lightgbm",
    "%%time",
    "  %timeit f(3)",
    "!ls /sandbox/data",
    "files = !ls",
    "out = %env",
    'template = """\n%d rows\n!done\nfiles = !ls\n"""',
    "s = '''\n%s\n'''",
    "y = (1\n% 2\n!= 3)",
    "z = 1 + \\\n% 4",
    "# %pip install in a comment",
    "f'''\n%{x}\n'''",
    "(",
    ")",
    '"""',
    "'",
    "\\",
    "        ",
    "\t",
    "\r\n",
    "\r",
    "\x0c",
    "\ud800",
    "\udfff",
    "\x00",
    "\U0001f600",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1b]52;c;aGVsbG8=\x07",
    "\x9b31m",
    "\u202e",
    "\x85",
    "[/bold]",
    "[red]x[/red]",
    "%pip install [/bold] \x1b[31m",
    "a" * 5000,
    "%" + "b" * 5000,
    "x = '" + "%d\\n" * 2000 + "'",
]

FRAGMENT = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20))
SOURCE = st.lists(FRAGMENT, max_size=8).flatmap(
    lambda parts: st.sampled_from(["\n", "", " "]).map(lambda glue: glue.join(parts))
)


@st.composite
def code_cells(draw: st.DrawFn, source: st.SearchStrategy[str]) -> dict[str, Any]:
    """Draw an nbformat 4 code cell whose source is a string or a list of lines."""
    text = draw(source)
    stored: str | list[str] = text.splitlines(keepends=True) if draw(st.booleans()) else text
    outputs = [{"name": "stdout", "output_type": "stream", "text": draw(SOURCE)}]
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": outputs,
        "source": stored,
    }


OTHER_CELL = st.builds(
    lambda kind, text: {"cell_type": kind, "metadata": {}, "source": text},
    st.sampled_from(["markdown", "raw"]),
    SOURCE,
)


def notebook_text(cells: list[dict[str, Any]], ensure_ascii: bool) -> str:
    """Return an nbformat 4 notebook's JSON; ensure_ascii writes surrogates as escapes."""
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, ensure_ascii=ensure_ascii)


NOTEBOOKS = st.builds(
    notebook_text,
    st.lists(st.one_of(code_cells(SOURCE), OTHER_CELL), max_size=6),
    st.booleans(),
)
# The same notebooks, cut short or with a character changed: JSON that is not a notebook.
DAMAGED = st.builds(
    lambda text, cut, junk: text[:cut] + junk + text[cut + 1 :],
    NOTEBOOKS,
    st.integers(min_value=0, max_value=400),
    st.sampled_from(["", "{", "]", '"', "\\", "\\u", "\\ud800", "\x00", "[" * 5000]),
)


def parses(source: str) -> bool:
    """Whether a cell's source parses as Python."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def convert_within_budget(text: str) -> str | InvalidSource:
    """Convert, returning the script or the refusal; anything else fails the test."""
    start = time.perf_counter()
    try:
        outcome: str | InvalidSource = notebook_to_script(text, "fuzz\x1b[2J.ipynb")
    except InvalidSource as exc:
        outcome = exc
    assert time.perf_counter() - start < 2.0
    if isinstance(outcome, InvalidSource):
        message = str(outcome)
        assert message == printable(message, keep_newlines=False), message
    else:
        outcome.encode("utf-8")
        assert "\x00" not in outcome
    return outcome


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(NOTEBOOKS, DAMAGED))
def test_any_notebook_gives_a_writable_script_or_a_clean_refusal(text: str) -> None:
    convert_within_budget(text)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(code_cells(SOURCE), min_size=1, max_size=4))
def test_cells_that_parse_as_python_are_never_refused_as_magics(
    cells: list[dict[str, Any]],
) -> None:
    outcome = convert_within_budget(notebook_text(cells, ensure_ascii=True))
    sources = ["".join(cell["source"]) for cell in cells]
    if all(parses(source) for source in sources):
        assert not isinstance(outcome, InvalidSource), str(outcome)
    if isinstance(outcome, InvalidSource) and "IPython magic" in str(outcome):
        number = int(str(outcome).split("cell ", 1)[1].split(",", 1)[0])
        assert not parses(sources[number - 1])


MAGIC_LOOKING = ["%d rows", "%", "!done", "files = !ls", "  %%time", "x=%y"]
# Each wraps many magic-looking lines: in a string of a cell that parses, in a string
# of a cell that does not, continuing a bracket never closed, or on their own.
WRAPPERS = ['s = """\n{}"""\n', 's = """\n{}"""\n(\n', "x = (\n{}", "import os\n{}", "{}"]


@settings(deadline=None, max_examples=20)
@given(st.sampled_from(MAGIC_LOOKING), st.sampled_from(WRAPPERS))
def test_45k_magic_looking_lines_convert_in_linear_time_however_wrapped(
    line: str, wrapper: str
) -> None:
    # the old check parsed the cell once per such line: 21 s for 45k of them
    cell = wrapper.format(f"{line}\n" * 45_000)
    text = notebook_text([{"cell_type": "code", "metadata": {}, "source": cell}], True)
    convert_within_budget(text)
