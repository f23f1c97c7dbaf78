"""A small round judged for real: honest, buggy, crashing, notebook and missing-file
contestants on the isolating sandboxes, through the library and the command line,
including an interrupted batch resumed by a second call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from judge.data import Secret
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.judging import boards, judge_round
from judge.rounds.publish import publish
from judge.rounds.submissions import discover
from judge.sandbox.base import Sandbox
from judge.verdicts import Verdict
from tests.rounds.helpers import (
    BANK,
    HONEST_ADD,
    HONEST_THRESHOLD,
    five_contestants,
    fixture_round,
    hand_in,
    lines,
)

SECRET = Secret(b"round-end-to-end", "test")
JUDGE = [str(Path(sys.executable).with_name("judge"))]

pytestmark = pytest.mark.slow


def test_a_small_round_gets_every_verdict_and_a_ranking_on_the_real_sandbox(
    tmp_path: Path, isolating_backend: Sandbox
) -> None:
    subs = five_contestants(tmp_path / "subs")
    hand_in(subs, "odd name", "threshold.py", HONEST_THRESHOLD)
    store = JsonlStore(tmp_path / "results")
    found = discover(fixture_round(), subs)
    summary = judge_round(fixture_round(), BANK, found, store, isolating_backend, SECRET, jobs=2)
    verdicts = {key: record.result.verdict for key, record in summary.records.items()}
    assert verdicts == {
        "honest/threshold.py": Verdict.AC,
        "honest/add-arrays.py": Verdict.AC,
        "buggy/threshold.py": Verdict.WA,
        "buggy/add-arrays.py": Verdict.WA,
        "crashing/threshold.py": Verdict.RE,
        "crashing/add-arrays.py": Verdict.CE,
        "notebook/threshold.ipynb": Verdict.AC,
        "missing/add-arrays.py": Verdict.AC,
    }
    assert any("'odd name'" in notice for notice in summary.notices)
    assert {r.result.sandbox for r in summary.records.values()} == {isolating_backend.name}
    private, public = boards(fixture_round(), store.read_manifest(), summary.records)
    assert [(row.contestant, row.rank) for row in private.rows][:3] == [
        ("honest", 1),
        ("notebook", 2),
        ("missing", 3),
    ]
    assert private.rows[2].cells["threshold"].verdict is Verdict.NS
    published = publish(
        fixture_round(), private, public, list(summary.records.values()), store.read_manifest()
    )
    assert published.csv.splitlines()[1].startswith("1,honest,")
    assert "the planted failure" in summary.records["crashing/threshold.py"].result.message


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*JUDGE, *args], capture_output=True, text=True, cwd=cwd, env=cli_env(), check=False
    )


def cli_env() -> dict[str, str]:
    return {
        **os.environ,
        "JUDGE_BANK": str(BANK.root),
        "JUDGE_SECRET": "round-cli-tests",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def twelve_files(folder: Path) -> Path:
    for number in range(6):
        hand_in(folder, f"c{number}", "threshold.py", HONEST_THRESHOLD, number)
        hand_in(folder, f"c{number}", "add-arrays.py", HONEST_ADD, 10 + number)
    return folder


@pytest.mark.bwrap
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_round_loses_nothing_and_the_next_call_judges_nothing_twice(
    tmp_path: Path, how: signal.Signals
) -> None:
    from tests.backends import get_backend

    get_backend("bwrap")  # skip (fail under CI) without bubblewrap
    subs = twelve_files(tmp_path / "subs")
    results = tmp_path / "results"
    command = [*JUDGE, "round", "judge", "fixture-round", "--submissions", str(subs)]
    command += ["--results", str(results), "--sandbox", "bwrap", "--jobs", "2"]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a shell's background job (CI started with
        # `&`) ignores SIGINT, and Python keeps an ignored SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    verdicts = results / "verdicts.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if verdicts.exists() and len(lines(verdicts)) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    proc.send_signal(how)
    _, stderr = proc.communicate(timeout=120)
    kept = lines(verdicts)
    assert 3 <= len(kept) < 12
    if how == signal.SIGINT:
        assert proc.returncode == 130
        assert "interrupted:" in stderr and "run the same command again" in stderr
    again = subprocess.run(
        command, cwd=tmp_path, env=cli_env(), capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert f"judged {12 - len(kept)} file(s), {len(kept)} already judged" in again.stdout
    keys = [line["key"] for line in lines(verdicts)]
    assert len(keys) == len(set(keys)) == 12
    assert {line["result"]["verdict"] for line in lines(verdicts)} == {"AC"}
    assert lines(verdicts)[: len(kept)] == kept  # nothing stored was rewritten


@pytest.mark.bwrap
def test_report_rebuilds_the_scoreboards_and_rejudge_shows_rank_changes(tmp_path: Path) -> None:
    from tests.backends import get_backend

    get_backend("bwrap")
    subs = five_contestants(tmp_path / "subs")
    results = tmp_path / "results"
    judged = run_cli(
        "round",
        "judge",
        "fixture-round",
        "--submissions",
        str(subs),
        "--results",
        str(results),
        "--sandbox",
        "bwrap",
        cwd=tmp_path,
    )
    assert judged.returncode == 0, judged.stderr
    assert "judged 8 file(s), 0 already judged" in judged.stdout
    stored = (results / "verdicts.jsonl").read_bytes()
    (results / "scoreboard.html").unlink()
    (results / "scoreboard.csv").unlink()
    report = run_cli("round", "report", "fixture-round", "--results", str(results), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert (results / "scoreboard.html").stat().st_size > 10_000
    assert "honest" in (results / "scoreboard.csv").read_text()
    assert (results / "verdicts.jsonl").read_bytes() == stored  # nothing judged again
    rejudged = run_cli(
        "round",
        "rejudge",
        "fixture-round",
        "--problem",
        "threshold",
        "--results",
        str(results),
        "--sandbox",
        "bwrap",
        cwd=tmp_path,
    )
    assert rejudged.returncode == 0, rejudged.stderr
    assert "rejudged 4 file(s) of threshold" in rejudged.stdout
    assert "private board: no rank changed" in rejudged.stdout
    records = [json.loads(line) for line in (results / "verdicts.jsonl").read_text().splitlines()]
    assert sum(r["rejudge"] == 1 for r in records) == 4


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["round", "judge", "no-such-round", "--submissions", "."], 2, "no round 'no-such-round'"),
        (
            ["round", "judge", "fixture-round", "--submissions", "nowhere"],
            2,
            "no such submissions folder",
        ),
        (
            ["round", "report", "fixture-round", "--results", "empty"],
            2,
            "run `judge round judge` first",
        ),
        (
            ["round", "rejudge", "fixture-round", "--problem", "nope", "--results", "empty"],
            2,
            "run `judge round judge` first",
        ),
        (
            ["round", "judge", "fixture-round", "--submissions", ".", "--jobs", "64"],
            2,
            "--jobs 64: 64 parallel jobs need 64 cores",
        ),
    ],
)
def test_bad_round_commands_get_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert len([line for line in done.stderr.splitlines() if "error:" in line]) == 1


def test_a_round_file_with_a_typo_is_named_with_the_fix(tmp_path: Path) -> None:
    text = (BANK.root / "rounds" / "fixture-round.yaml").read_text()
    path = tmp_path / "fixture-round.yaml"
    path.write_text(text.replace("submission_limit", "submision_limit"))
    done = run_cli("round", "check", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert "submision_limit: unknown field; did you mean 'submission_limit'?" in done.stderr
