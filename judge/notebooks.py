"""Notebook submissions: a Jupyter or Colab `.ipynb` becomes the script its code cells make.

Code cells are joined in order; markdown cells and every stored output are ignored.
IPython magics (`%pip`, `%%time`) and shell escapes (`!ls`, `files = !ls`) are not
Python and are refused with a message naming the cell and line, before anything runs.
"""

from __future__ import annotations

import ast
import re

import nbformat

from judge.errors import InvalidSource

_IPYTHON_ONLY = re.compile(r"^\s*(%|!)|^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*(!|%)")


def _is_python(source: str) -> bool:
    """Whether a cell parses as Python (a `%` line inside a string literal is not a magic)."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def notebook_to_script(text: str, name: str) -> str:
    """Return the Python script made of a notebook's code cells; InvalidSource if impossible."""
    try:
        notebook = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises JSON, validation and version errors alike
        reason = " ".join(str(exc).split())[:200]
        raise InvalidSource(f"{name}: not a readable Jupyter notebook ({reason})") from None
    parts = []
    cells = notebook.get("cells", [])
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line_number, line in enumerate(source.splitlines(), start=1):
            if _IPYTHON_ONLY.match(line) and not _is_python(source):
                raise InvalidSource(
                    f"{name}: cell {number}, line {line_number}: {line.strip()[:80]!r} is an "
                    "IPython magic or shell escape, not Python; remove it (the judge installs "
                    "nothing and runs no shell commands)"
                )
        parts.append(f"# --- cell {number} ---\n{source}\n")
    if not parts:
        raise InvalidSource(f"{name}: the notebook has no code cells")
    return "\n".join(parts)
