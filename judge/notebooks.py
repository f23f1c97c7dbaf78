"""Notebook submissions: a Jupyter or Colab `.ipynb` becomes the script its code cells make.

Code cells are joined in order; markdown cells and every stored output are ignored.
IPython magics (`%pip`, `%%time`) and shell escapes (`!ls`, `files = !ls`) are not
Python and are refused with a message naming the cell and line, before anything runs.

This runs in the judge's own process on untrusted input, before any sandbox limit, so
every step is linear in the size of the notebook and bounded by the caps below:

- the JSON is read by `json.loads` (C, linear; nesting too deep for it is refused);
  nbformat is not used here: it costs over ten times as much on a crafted notebook,
  its validation never rejects anything (it logs the offending value, which the
  contestant wrote), and it would only add conversions from formats older than 4;
- a code cell holding NUL (which Python source may not hold) or a lone surrogate
  (U+D800-U+DFFF, which a JSON `\\ud800` escape makes, and which cannot be written as
  UTF-8) is refused;
- at most MAX_CELLS code cells and a script of at most MAX_SCRIPT_BYTES;
- magics are found with one `tokenize` pass per cell, and only for a cell with a
  magic-looking line; the cell is never parsed (`ast.parse` of a 1 MiB cell takes
  seconds and over 600 MB).

Every piece of the notebook quoted in a message goes through `judge.text.printable`.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from typing import Any

from judge.errors import InvalidSource
from judge.text import printable

# Real notebooks, even long course notebooks, have a few hundred code cells; ten times
# that leaves room for anyone's style while an absurd notebook gets a clear message.
MAX_CELLS = 2000
# The script a notebook makes is held to the cap on a submitted `.py` file, so a
# notebook is never a way around it (matches judge.runner.MAX_SOURCE_BYTES, which this
# module may not import).
MAX_SCRIPT_BYTES = 1024 * 1024

# A line IPython would treat as a magic or shell escape when it starts a statement.
_IPYTHON_ONLY = re.compile(r"^\s*(%|!)|^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*(!|%)")
# Characters no script may hold: NUL, and lone surrogates (a pair is decoded by JSON
# into one character, so any surrogate left in a str is alone).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# Tokens that do not begin a statement's text: after NEWLINE the next line starts a
# statement; NL (a blank line, or a line break inside brackets), comments and
# indentation change nothing.
_LAYOUT = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT})
_QUOTE_CHARS = 80


def notebook_to_script(text: str, name: str) -> str:
    """Return the Python script made of a notebook's code cells; InvalidSource if impossible.

    name: the notebook's file name, for messages.
    """
    name = printable(name, keep_newlines=False)
    code = _code_cells(_read_cells(text, name), name)
    if len(code) > MAX_CELLS:
        raise InvalidSource(
            f"{name}: {len(code)} code cells, over the cap of {MAX_CELLS}; "
            "merge cells or submit a .py file"
        )
    sources = [(number, _cell_source(cell, number, name)) for number, cell in code]
    if not sources:
        raise InvalidSource(f"{name}: the notebook has no code cells")
    for number, source in sources:
        _check_text(source, number, name)
    script = "\n".join(f"# --- cell {number} ---\n{source}\n" for number, source in sources)
    size = len(script.encode("utf-8"))
    if size > MAX_SCRIPT_BYTES:
        raise InvalidSource(
            f"{name}: its code cells make a script of {size} bytes, over the "
            f"{MAX_SCRIPT_BYTES} byte cap for a submission; keep data out of code cells"
        )
    for number, source in sources:
        magic = _first_magic(source)
        if magic is not None:
            line_number, line = magic
            quoted = printable(line.strip()[: 2 * _QUOTE_CHARS], keep_newlines=False)
            raise InvalidSource(
                f"{name}: cell {number}, line {line_number}: {quoted[:_QUOTE_CHARS]!r} is an "
                "IPython magic or shell escape, not Python; remove it (the judge installs "
                "nothing and runs no shell commands)"
            )
    return script


def _read_cells(text: str, name: str) -> list[Any]:
    """Parse the notebook's JSON and return its list of cells (nbformat 4)."""
    try:
        notebook = json.loads(text)
    except RecursionError:
        raise InvalidSource(
            f"{name}: not a readable Jupyter notebook (JSON nested too deeply)"
        ) from None
    except ValueError as exc:  # JSONDecodeError, or an integer of over 4300 digits
        reason = printable(str(exc)[:200], keep_newlines=False)
        raise InvalidSource(f"{name}: not a readable Jupyter notebook ({reason})") from None
    if not isinstance(notebook, dict):
        raise InvalidSource(f"{name}: not a readable Jupyter notebook (not a JSON object)")
    version = notebook.get("nbformat")
    if type(version) is not int:
        raise InvalidSource(
            f'{name}: not a readable Jupyter notebook (no "nbformat" version number)'
        )
    if version != 4:
        raise InvalidSource(
            f"{name}: nbformat {str(version)[:12]} is not supported; open the notebook in "
            "Jupyter or Colab and save it again (they write nbformat 4)"
        )
    cells = notebook.get("cells", [])
    if not isinstance(cells, list):
        raise InvalidSource(f'{name}: not a readable Jupyter notebook ("cells" is not a list)')
    return cells


def _code_cells(cells: list[Any], name: str) -> list[tuple[int, dict[str, Any]]]:
    """Return the code cells with their numbers among all cells (counted from 1)."""
    code = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise InvalidSource(f"{name}: cell {number} is not a JSON object")
        if cell.get("cell_type") == "code":
            code.append((number, cell))
    return code


def _cell_source(cell: dict[str, Any], number: int, name: str) -> str:
    """Return a code cell's source, which nbformat stores as a string or a list of lines."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise InvalidSource(f"{name}: cell {number}: its source is not text")


def _check_text(source: str, number: int, name: str) -> None:
    """Refuse a cell holding NUL or a lone surrogate, naming the cell, line and character."""
    found = _NOT_TEXT.search(source)
    if found is None:
        return
    line_number = _line_of(source, found.start())
    char = found.group()
    what = "a NUL character" if char == "\x00" else f"a lone surrogate U+{ord(char):04X}"
    raise InvalidSource(
        f"{name}: cell {number}, line {line_number}: contains {what}, which is not text; remove it"
    )


def _line_of(source: str, index: int) -> int:
    """Return the line number (from 1, as Python counts: \\n, \\r\\n or \\r) of an index."""
    before = source[:index]
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _first_magic(source: str) -> tuple[int, str] | None:
    """Return the number and text of the first line that starts a statement with a magic."""
    # A magic-looking line inside a string or brackets, or after a backslash, is Python
    # (`% b` continuing `(a`); one that starts a statement never is, so a cell that
    # parses has no magic. One tokenizer pass, stopped at the first magic or after the
    # last magic-looking line. If the tokenizer gives up (a bad dedent, an unterminated
    # string), the magic-looking lines it did not reach count as magics.
    text = source.replace("\r\n", "\n").replace("\r", "\n")  # count lines as Python does
    lines = text.split("\n")
    candidates = [n for n, line in enumerate(lines, start=1) if _IPYTHON_ONLY.match(line)]
    if not candidates:
        return None
    pending = iter(candidates)
    candidate: int | None = next(pending)
    reached = 0
    starts_statement = True
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _LAYOUT:
                continue
            if token.type == tokenize.NEWLINE:
                starts_statement = True
                continue
            if token.type == tokenize.ENDMARKER:
                break
            row = token.start[0]
            reached = token.end[0]
            while candidate is not None and candidate < row:  # no token starts it: a string
                candidate = next(pending, None)
            if candidate is None:
                return None
            if candidate == row and starts_statement:
                return candidate, lines[candidate - 1]
            starts_statement = False
    except (tokenize.TokenError, SyntaxError):  # SyntaxError: IndentationError, 3.12's errors
        return next(((n, lines[n - 1]) for n in candidates if n > reached), None)
    return None
