"""Attacks on the judge's own process: crafted outputs, messages and notebooks (issue 11).

The sandbox contains these runs; what they aim at is the judge that handles what they
leave behind, outside every limit of the run: a walk of the output folder that recurses
or lists millions of names, a message that drives the organiser's terminal, a notebook
that makes the judge's conversion crash or run for hours. Each must end in a verdict (or
the file refused as an invalid source) within the judge's budget (conftest: CPU time and
peak memory of the judge's own process, asserted on every judgement).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from judge.errors import InvalidSource
from judge.verdicts import Verdict
from tests.adversarial.conftest import HONEST, Attack

HONEST_TEXT = HONEST.read_text(encoding="utf-8")


def test_a_folder_chain_deeper_than_the_recursion_limit_is_an_output_limit(
    attack: Attack,
) -> None:
    """Finding 2: 1,500 nested folders made the judge's walk raise RecursionError."""
    result = attack(
        HONEST_TEXT
        + """
import os
fd = os.open(os.environ["OUTPUT_DIR"], os.O_RDONLY)
for _ in range(1500):
    os.mkdir("d", dir_fd=fd)
    child = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = child
"""
    )
    assert result.verdict is Verdict.OLE, result.message
    assert "nested over 32 levels deep" in result.message


def test_a_flood_of_hard_links_stops_at_the_entry_cap(attack: Attack) -> None:
    """Finding 7: 1.67 million long links to one empty file cost the judge 10 s and 490 MiB."""
    result = attack(
        HONEST_TEXT
        + """
import os, time
out = os.environ["OUTPUT_DIR"]
open(os.path.join(out, "f"), "w").close()
made, deadline = 0, time.monotonic() + 4
try:
    while made < 1_670_000 and time.monotonic() < deadline:
        os.link(os.path.join(out, "f"), os.path.join(out, f"{made:0200d}"))
        made += 1
except OSError as exc:
    print("stopped after", made, "links:", exc)
"""
    )
    assert result.verdict is Verdict.OLE, result.message


def test_long_names_past_the_name_cap_are_an_output_limit(attack: Attack) -> None:
    result = attack(
        HONEST_TEXT
        + """
import os
out = os.environ["OUTPUT_DIR"]
for i in range(5000):
    try:
        open(os.path.join(out, f"{i:0250d}"), "w").close()
    except OSError:
        break
"""
    )
    assert result.verdict is Verdict.OLE, result.message


def test_a_fifo_and_a_socket_named_as_the_predictions_are_invalid_output(
    attack: Attack,
) -> None:
    result = attack(
        """
import os, socket
out = os.environ["OUTPUT_DIR"]
os.mkfifo(os.path.join(out, "predictions.npy"))
sock = socket.socket(socket.AF_UNIX)
sock.bind(os.path.join(out, "other"))
"""
    )
    assert result.verdict is Verdict.IO, result.message


def test_escape_codes_on_stderr_reach_no_message(attack: Attack) -> None:
    """Finding 5: a cleared screen, a window title, OSC 52 and a fake verdict table."""
    result = attack(
        r"""
import sys
sys.stderr.write("\x1b[2J\x1b[H\x1b]0;judge\x07\x1b]52;c;ZXZpbA==\x07"
                 "\x1b[1;32m AC 100/100 \x1b[0m\x9b2J\u202e[/bold]\n")
sys.exit(3)
"""
    )
    assert result.verdict is Verdict.RE
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in result.message
    assert "AC 100/100" in result.message and "[/bold]" in result.message


def notebook(tmp_path: Path, sources: list[str], raw: str | None = None) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
        for s in sources
    ]
    path = tmp_path / "attack.ipynb"
    text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    path.write_text(text if raw is None else text.replace("@@RAW@@", raw), encoding="utf-8")
    return path


def test_a_lone_surrogate_in_a_notebook_is_refused_not_a_crash(
    attack: Attack, tmp_path: Path
) -> None:
    """Finding 3: "\\ud800" survived parsing and crashed the judge writing the script."""
    source = notebook(tmp_path, [HONEST_TEXT, "x = '@@RAW@@'\n"], raw="\\ud800")
    with pytest.raises(InvalidSource, match="cell 2"):
        attack.judge_file(source)


def test_many_magic_looking_lines_convert_in_linear_time(attack: Attack, tmp_path: Path) -> None:
    """Finding 4: the magic check re-parsed a cell per line: 45k lines took 21 s.

    The lines lie inside a string, so the cell is Python and the notebook is judged;
    the judge's CPU budget (conftest) is what a quadratic check would blow.
    """
    lines = "".join(f"%time {i}\n" for i in range(45_000))  # 0.5 MB: under the 1 MiB cap
    source = notebook(tmp_path, [HONEST_TEXT, f'NOTES = """\n{lines}"""\n'])
    start = time.monotonic()
    result = attack.judge_file(source)
    assert result.verdict is Verdict.AC, result.message
    assert time.monotonic() - start < 30  # the run itself; the conversion is in the budget


def test_rich_markup_quoted_from_a_notebook_stays_text(attack: Attack, tmp_path: Path) -> None:
    """Finding 6: an unbalanced [/bold] in a refusal message crashed the CLI's printer."""
    source = notebook(tmp_path, [HONEST_TEXT, "%pip install [/bold] \x1b[2J\n"])
    with pytest.raises(InvalidSource) as refused:
        attack.judge_file(source)
    assert "[/bold]" in str(refused.value) and "\x1b" not in str(refused.value)
