"""Judge time to turn crafted notebooks into scripts (judge.notebooks.notebook_to_script).

    python bench/notebooks.py [-n 5] [--module PATH] [--shapes string-45k,broken-45k]

Each shape is a notebook built to be slow for a naive magic check; each is converted N
times and the table prints median, min and max seconds with the outcome (the script's
size, or the start of the refusal). --module loads notebook_to_script from another
file, to time an older version: `git show HEAD~1:judge/notebooks.py > /tmp/old.py`.
Not a test: machines are noisy, so compare rows of one run, or runs on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from judge.errors import InvalidSource  # noqa: E402

Convert = Callable[[str, str], str]


def notebook(*sources: str) -> str:
    """Return the JSON of an nbformat 4 notebook with one code cell per source."""
    cells: list[dict[str, object]] = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s}
        for s in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def in_string(lines: int) -> str:
    """A cell that parses: `lines` lines starting with `%` inside a triple-quoted string."""
    return 'template = """\n' + "%d rows\n" * lines + '"""\nprint(template)\n'


def broken(lines: int) -> str:
    """A cell that does not parse, whose lines all start with `%`."""
    return "%d rows\n" * lines


def red_team_271k() -> str:
    """The red team's shape: lines of a lone `%` inside a string, 271 kB of notebook."""
    lines = (271_000 - len(notebook(""))) // 3  # "%\n" is three characters in JSON
    return notebook('"""\n' + "%\n" * lines + '"""\n')


def dense_tokens() -> str:
    """The slowest shape under the caps: ~1 MiB of small tokens between magic-looking
    lines inside strings, so the tokenizer has to read the whole cell."""
    body = "x = [" + "1," * 520_000 + "]\n"
    return notebook('s = """\n%d\n"""\n' + body + 't = """\n%d\n"""\n')


SHAPES: dict[str, Callable[[], str]] = {
    "string-11k": lambda: notebook(in_string(11_000)),
    "string-22k": lambda: notebook(in_string(22_000)),
    "string-45k": lambda: notebook(in_string(45_000)),
    "broken-11k": lambda: notebook(broken(11_000)),
    "broken-22k": lambda: notebook(broken(22_000)),
    "broken-45k": lambda: notebook(broken(45_000)),
    "red-team-271k": red_team_271k,
    "dense-1MiB": dense_tokens,
}


def load_converter(module: Path | None) -> Convert:
    """Return notebook_to_script from judge.notebooks, or from the file `module`."""
    if module is None:
        from judge.notebooks import notebook_to_script

        return notebook_to_script
    spec = importlib.util.spec_from_file_location("notebooks_under_bench", module)
    assert spec is not None and spec.loader is not None, module
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    convert: Convert = loaded.notebook_to_script
    return convert


def convert_once(convert: Convert, text: str) -> tuple[float, str]:
    """Convert once; return the seconds taken and what came out."""
    start = time.perf_counter()
    try:
        outcome = f"script of {len(convert(text, 'bench.ipynb'))} chars"
    except InvalidSource as exc:
        outcome = "refused: " + str(exc).split(": ", 1)[1][:48]
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="conversions per shape")
    parser.add_argument("--module", type=Path, help="a notebooks.py to time instead")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated")
    args = parser.parse_args()
    convert = load_converter(args.module)
    label = str(args.module) if args.module else "judge.notebooks"
    table = Table(
        "shape",
        "notebook kB",
        "median s",
        "min s",
        "max s",
        "outcome",
        title=f"{label}, n={args.n}",
    )
    console = Console(width=150)
    for shape in args.shapes.split(","):
        text = SHAPES[shape]()
        samples = []
        outcome = ""
        for _ in range(args.n):
            seconds, outcome = convert_once(convert, text)
            samples.append(seconds)
        table.add_row(
            shape,
            f"{len(text.encode()) / 1000:.0f}",
            f"{statistics.median(samples):.3f}",
            f"{min(samples):.3f}",
            f"{max(samples):.3f}",
            outcome,
        )
        console.print(f"{shape}: done", style="dim")
    console.print(table)


if __name__ == "__main__":
    main()
