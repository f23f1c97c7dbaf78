"""The command line: one-line errors, exit codes, JSON output, and fetch never leaking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import judge.cli
from judge.bank import Bank
from judge.cli import app
from judge.data import Secret, draw_train_predict
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.records import Manifest
from tests.rounds.helpers import record

FIXTURE = Path(__file__).parent / "fixtures" / "bank"
REFERENCE = FIXTURE / "reference" / "threshold" / "accepted" / "solution.py"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("JUDGE_BANK", str(FIXTURE))
    monkeypatch.setenv("JUDGE_SECRET", "cli-test-secret")
    return CliRunner()


def test_list_shows_every_problem(cli: CliRunner) -> None:
    result = cli.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "threshold" in result.output and "add-arrays" in result.output


def test_run_json_has_the_documented_fields(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE), "--sandbox", "process", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in (
        "verdict",
        "score",
        "max_score",
        "metric",
        "wall_s",
        "cpu_s",
        "peak_mb",
        "sandbox",
        "message",
    ):
        assert key in data
    assert data["verdict"] == "AC" and data["metric"]["name"] == "accuracy"
    assert data["sandbox"] == "process"


def test_wrong_answer_still_exits_zero(cli: CliRunner) -> None:
    starter = FIXTURE / "problems" / "threshold" / "starter.py"
    result = cli.invoke(app, ["run", "threshold", str(starter), "--sandbox", "process"])
    assert result.exit_code == 0 and "WA" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "nope", "x.py"], "unknown problem 'nope'"),
        (["run", "threshold", "missing.py", "--sandbox", "process"], "no such file"),
        (["run", "threshold", str(REFERENCE), "--sandbox", "vm"], "unknown sandbox 'vm'"),
        (["show", "nope"], "unknown problem"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli: CliRunner, args: list[str], needle: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and needle in result.output


def test_empty_and_binary_submissions_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "binary.py").write_bytes(b"\x7fELF\x00\x01")
    for name, needle in (("empty.py", "empty"), ("binary.py", "NUL")):
        result = cli.invoke(app, ["run", "threshold", str(tmp_path / name), "--sandbox", "process"])
        assert result.exit_code == 2 and needle in result.output


def test_broken_bank_problem_exits_1(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = tmp_path / "bank"
    (bank / "datasets").mkdir(parents=True)
    folder = bank / "problems" / "broken"
    folder.mkdir(parents=True)
    (folder / "spec.yaml").write_text("id: broken\nkind: nonsense\n")
    monkeypatch.setenv("JUDGE_BANK", str(bank))
    result = cli.invoke(app, ["run", "broken", str(REFERENCE), "--sandbox", "process"])
    assert result.exit_code == 1 and "spec.yaml" in result.output


def test_schema_is_json(cli: CliRunner) -> None:
    result = cli.invoke(app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout)["title"]


def test_development_secret_prints_a_warning(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JUDGE_SECRET")
    monkeypatch.setenv("JUDGE_SECRET_FILE", str(tmp_path / "absent"))
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE), "--sandbox", "process"])
    assert result.exit_code == 0 and "development secret" in result.output


def test_fetch_writes_public_files_only(cli: CliRunner, tmp_path: Path) -> None:
    dest = tmp_path / "work"
    result = cli.invoke(app, ["fetch", "threshold", str(dest)])
    assert result.exit_code == 0, result.output
    names = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert names == [
        "data",
        "data/test_X.npy",
        "data/test_y.npy",  # the practice draw's labels, never the hidden ones
        "data/train_X.npy",
        "data/train_y.npy",
        "output",
        "problem.json",
        "starter.py",
        "statement.md",
    ]
    spec = Bank(FIXTURE).problem("threshold").spec
    hidden = draw_train_predict(spec, FIXTURE / "datasets", Secret(b"cli-test-secret", "t"))
    assert not np.array_equal(np.load(dest / "data" / "test_X.npy"), hidden.hidden_X)
    for path in dest.rglob("*.npy"):
        assert hidden.hidden_y.tobytes() not in path.read_bytes()
        assert hidden.hidden_X.tobytes()[:256] not in path.read_bytes()
    assert not any("solution" in n for n in names)


def test_fetch_refuses_a_non_empty_destination(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = cli.invoke(app, ["fetch", "threshold", str(tmp_path)])
    assert result.exit_code == 2 and (tmp_path / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_docker_engine_down_is_one_line_with_the_fix(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE), "--sandbox", "docker"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "start dockerd" in errors[0]


def test_bubblewrap_missing_is_one_line_with_the_fix(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import judge.sandbox.bwrap as bwrap

    real_which = bwrap.shutil.which
    monkeypatch.setattr(
        bwrap.shutil,
        "which",
        lambda name, path=None: None if name == "bwrap" else real_which(name, path=path),
    )
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE), "--sandbox", "bwrap"])
    assert result.exit_code == 1
    assert "bubblewrap not installed: apt-get install bubblewrap" in result.output


def test_auto_says_which_backend_and_why(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE)])
    assert result.exit_code == 0
    assert "auto picked" in result.output and "docker: Docker engine not reachable" in result.output


def test_process_sandbox_says_it_does_not_isolate(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", "threshold", str(REFERENCE), "--sandbox", "process"])
    assert result.exit_code == 0 and "does not isolate" in result.output


def test_export_bundle_writes_a_zip_and_refuses_to_overwrite(
    cli: CliRunner, tmp_path: Path
) -> None:
    dest = tmp_path / "bundle.zip"
    result = cli.invoke(app, ["export-bundle", str(dest), "threshold", "add-arrays"])
    assert result.exit_code == 0, result.output
    assert "2 problem(s)" in result.output and dest.is_file()
    again = cli.invoke(app, ["export-bundle", str(dest)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_round_report_writes_both_scoreboards_beside_the_verdicts_and_says_where(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = JsonlStore(Path("results"))
    store.write_manifest(Manifest("fixture-round", "subs", ["ana", "bob"], []))
    store.append(record("ana", "threshold", 3, 90.0))
    store.append(record("bob", "add-arrays", 4, 100.0))
    (store.folder / "scoreboard.csv").write_text("stale")
    stored = store.path.read_bytes()
    result = cli.invoke(app, ["round", "report", "fixture-round", "--results", "results"])
    assert result.exit_code == 0, result.output
    assert "wrote results/scoreboard.csv and results/scoreboard.html" in result.stdout
    assert (store.folder / "scoreboard.csv").read_text().splitlines()[1].startswith("1,ana,90,")
    assert "bob" in (store.folder / "scoreboard.html").read_text()
    assert sorted(p.name for p in store.folder.iterdir()) == [
        "round.json",
        "scoreboard.csv",
        "scoreboard.html",
        "verdicts.jsonl",
    ]
    assert store.path.read_bytes() == stored


def test_new_refuses_an_existing_slug_and_a_bad_one(cli: CliRunner) -> None:
    taken = cli.invoke(app, ["new", "threshold"])
    assert taken.exit_code == 2 and "already exists; choose another slug" in taken.output
    bad = cli.invoke(app, ["new", "Bad_Slug"])
    assert bad.exit_code == 2 and "not a valid slug" in bad.output
    kind = cli.invoke(app, ["new", "fresh-one", "--kind", "regression"])
    assert kind.exit_code == 2 and "unknown kind" in kind.output
    assert not (FIXTURE / "problems" / "fresh-one").exists()


def test_validate_json_reports_findings_and_exits_1_on_errors(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bank = tmp_path / "bank"
    for part in ("problems", "reference", "datasets"):
        (bank / part).mkdir(parents=True)
    (bank / "problems" / "no-spec").mkdir()
    monkeypatch.setenv("JUDGE_BANK", str(bank))
    result = cli.invoke(app, ["validate", "--sandbox", "process", "--json", "--no-audit"])
    assert result.exit_code == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and report["errors"] == 1
    (finding,) = report["problems"][0]["findings"]
    assert finding["check"] == "spec" and "spec file missing" in finding["message"]


@pytest.mark.slow
def test_calibrate_proposes_limits_from_the_reference_runs(cli: CliRunner) -> None:
    result = cli.invoke(app, ["calibrate", "threshold", "--runs", "2", "--sandbox", "process"])
    assert result.exit_code == 0, result.output
    assert "proposed limits:" in result.output and "wall_s:" in result.output
    assert "memory_mb:" in result.output
    data = cli.invoke(
        app, ["calibrate", "threshold", "--runs", "2", "--sandbox", "process", "--json"]
    )
    found = json.loads(data.stdout.strip().splitlines()[-1])
    slowest = max(r["wall_s"] for r in found["runs"])
    assert len(found["runs"]) == 2 and found["wall_s"] >= 2 * slowest


def test_demo_judges_every_labelled_submission_two_at_a_time(cli: CliRunner) -> None:
    result = cli.invoke(app, ["demo", "--sandbox", "process", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "all 5 submissions got their expected verdicts" in result.output
    assert result.output.index("add-arrays") < result.output.index("threshold-patient")


@pytest.mark.parametrize("name", ["threshold_solution.ipynb", "with_magic.ipynb"])
def test_a_command_closes_its_sandbox_when_it_ends_well_or_badly(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    closed: list[str] = []
    real_open = judge.cli.open_sandbox

    def tracked(*args: Any, **kwargs: Any) -> Any:
        choice = real_open(*args, **kwargs)
        close = choice.sandbox.close
        monkeypatch.setattr(choice.sandbox, "close", lambda: (closed.append("closed"), close()))
        return choice

    monkeypatch.setattr(judge.cli, "open_sandbox", tracked)
    notebook = Path(__file__).parent / "fixtures" / "notebooks" / name
    cli.invoke(app, ["run", "threshold", str(notebook), "--sandbox", "process"])
    assert closed == ["closed"]


def test_run_judges_a_notebook_and_refuses_one_with_magics_in_one_line(cli: CliRunner) -> None:
    notebooks = Path(__file__).parent / "fixtures" / "notebooks"
    good = cli.invoke(
        app,
        [
            "run",
            "threshold",
            str(notebooks / "threshold_solution.ipynb"),
            "--sandbox",
            "process",
            "--json",
        ],
    )
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout.strip().splitlines()[-1])["verdict"] == "AC"
    bad = cli.invoke(app, ["run", "threshold", str(notebooks / "with_magic.ipynb")])
    assert bad.exit_code == 2
    assert "cell 2, line 1" in bad.output and "IPython magic" in bad.output


def test_a_notebook_quoting_markup_and_escape_codes_gets_the_usage_error(
    cli: CliRunner, tmp_path: Path
) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    cell["source"] = "%pip install [/bold] \x1b]0;pwned\x07\x1b[2J\n"
    notebook = tmp_path / "evil.ipynb"
    notebook.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}),
        encoding="utf-8",
    )
    result = cli.invoke(app, ["run", "threshold", str(notebook), "--sandbox", "process"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[/bold]" in result.output and "\x1b" not in result.output
    assert "cell 1, line 1" in result.output


def test_escape_codes_a_run_writes_to_stderr_never_reach_the_terminal(
    cli: CliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "evil.py"
    source.write_text(
        "import sys\n"
        "sys.stderr.write('\\x1b[2J\\x1b[H\\x1b]0;title\\x07\\x1b]52;c;ZXZpbA==\\x07'\n"
        "                 '\\x1b[32m AC 100/100 [/bold]\\x9b2J\\n')\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    result = cli.invoke(app, ["run", "threshold", str(source), "--sandbox", "process"])
    assert result.exit_code == 0, result.output
    assert "RE" in result.output and "AC 100/100 [/bold]" in result.output
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.output
