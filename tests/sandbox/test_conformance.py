"""Every backend, judged end to end on the fixture bank: the verdicts and the isolation promises.

Attacks that need isolation run on the isolating backends only; the process
backend promises none (it is for trusted code).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret, draw_train_predict
from judge.runner import run_submission
from judge.sandbox.base import Sandbox
from judge.verdicts import Result, Verdict

FIXTURES = Path(__file__).parent.parent / "fixtures"
BANK = Bank(FIXTURES / "bank")
SUBMISSIONS = FIXTURES / "submissions"
SECRET = Secret(b"conformance-secret-5b1f0c", "test")
FOUND = 42  # exit code an attack uses to say "I got through"


def judge(sandbox: Sandbox, source: Path, slug: str = "threshold") -> Result:
    return run_submission(BANK.problem(slug), source, sandbox, SECRET, BANK)


def judge_text(sandbox: Sandbox, tmp_path: Path, code: str, slug: str = "threshold") -> Result:
    source = tmp_path / "attack.py"
    source.write_text(textwrap.dedent(code), encoding="utf-8")
    return judge(sandbox, source, slug)


def test_reference_gets_accepted(backend: Sandbox) -> None:
    result = judge(backend, BANK.reference_dir / "threshold" / "accepted" / "solution.py")
    assert result.verdict is Verdict.AC, result.message
    assert result.score == result.max_score
    assert result.sandbox == backend.name


def test_starter_gets_its_declared_verdict(backend: Sandbox) -> None:
    problem = BANK.problem("threshold")
    result = judge(backend, problem.starter)
    assert result.verdict is problem.spec.starter_verdict


def test_function_problem_reference_and_starter(backend: Sandbox) -> None:
    problem = BANK.problem("add-arrays")
    good = judge(
        backend, BANK.reference_dir / "add-arrays" / "accepted" / "solution.py", "add-arrays"
    )
    assert good.verdict is Verdict.AC, good.message
    assert judge(backend, problem.starter, "add-arrays").verdict is Verdict.WA


def test_infinite_loop_gets_time_limit(backend: Sandbox) -> None:
    result = judge(backend, SUBMISSIONS / "infinite_loop.py")
    assert result.verdict is Verdict.TLE
    assert 7.5 <= result.wall_s < 12


def test_sleep_past_the_wall_limit_gets_time_limit(backend: Sandbox) -> None:
    assert judge(backend, SUBMISSIONS / "sleep_forever.py").verdict is Verdict.TLE


def test_memory_bomb_gets_memory_limit(backend: Sandbox) -> None:
    result = judge(backend, SUBMISSIONS / "memory_bomb.py")
    assert result.verdict is Verdict.MLE, result.message


def test_raise_gets_runtime_error_with_the_message(backend: Sandbox) -> None:
    result = judge(backend, SUBMISSIONS / "raises.py")
    assert result.verdict is Verdict.RE
    assert "the planted failure 7f3a" in result.message


def test_100_mb_output_gets_output_limit(backend: Sandbox) -> None:
    assert judge(backend, SUBMISSIONS / "big_output.py").verdict is Verdict.OLE


@pytest.mark.parametrize(
    "name", ["nan_predictions.py", "short_predictions.py", "symlink_predictions.py"]
)
def test_bad_predictions_get_invalid_output(backend: Sandbox, name: str) -> None:
    result = judge(backend, SUBMISSIONS / name)
    assert result.verdict is Verdict.IO, result.message


def test_fork_bomb_is_contained_and_the_next_run_works(isolating_backend: Sandbox) -> None:
    result = judge(isolating_backend, SUBMISSIONS / "fork_bomb.py")
    assert result.verdict in {Verdict.TLE, Verdict.RE, Verdict.MLE}
    after = judge(isolating_backend, BANK.reference_dir / "threshold" / "accepted" / "solution.py")
    assert after.verdict is Verdict.AC


def test_sandbox_cannot_reach_a_host_loopback_listener(
    isolating_backend: Sandbox, tmp_path: Path, loopback_listener: tuple[int, list[str]]
) -> None:
    port, seen = loopback_listener
    result = judge_text(
        isolating_backend,
        tmp_path,
        f"""
        import socket, sys
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        except OSError:
            raise SystemExit(0)
        raise SystemExit({FOUND})
    """,
    )
    assert result.details["exit_code"] != FOUND
    assert seen == []


@pytest.mark.slow
def test_filesystem_walk_finds_no_hidden_labels(isolating_backend: Sandbox, tmp_path: Path) -> None:
    """Read every small file the sandbox can see, looking for the hidden labels in any form."""
    spec = BANK.problem("threshold-patient").spec
    hidden = draw_train_predict(spec, BANK.datasets_dir, SECRET).hidden_y
    needles = [
        hidden.tobytes()[:2048],
        "\n".join(str(v) for v in hidden[:400]).encode(),
        ",".join(str(v) for v in hidden[:400]).encode(),
    ]
    result = judge_text(
        isolating_backend,
        tmp_path,
        f"""
        import os, stat
        needles = [bytes.fromhex(h) for h in {[n.hex() for n in needles]!r}]
        for root, dirs, files in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys")]
            for name in files:
                path = os.path.join(root, name)
                try:
                    info = os.lstat(path)
                    if not stat.S_ISREG(info.st_mode) or info.st_size > 1 << 16:
                        continue
                    with open(path, "rb") as handle:
                        data = handle.read()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    print("found in", path)
                    raise SystemExit({FOUND})
    """,
        slug="threshold-patient",
    )
    assert result.details["exit_code"] == 0, result.message
    assert result.verdict is Verdict.IO  # it wrote nothing


def test_secret_is_in_neither_the_environment_nor_proc(
    isolating_backend: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = "judge-secret-marker-93c1d7"
    monkeypatch.setenv("JUDGE_SECRET", marker)
    result = judge_text(
        isolating_backend,
        tmp_path,
        f"""
        import os
        marker = {marker!r}
        if any(marker in v for v in os.environ.values()):
            raise SystemExit({FOUND})
        for pid in os.listdir("/proc"):
            for leaf in ("environ", "cmdline"):
                try:
                    data = open(f"/proc/{{pid}}/{{leaf}}", "rb").read()
                except OSError:
                    continue
                if marker.encode() in data:
                    raise SystemExit({FOUND})
    """,
    )
    assert result.details["exit_code"] == 0, result.message


def test_thread_caps_follow_the_cpu_limit(backend: Sandbox, tmp_path: Path) -> None:
    result = judge_text(
        backend,
        tmp_path,
        """
        import os
        names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        raise SystemExit(0 if all(os.environ.get(n) == "1" for n in names) else 3)
    """,
    )
    assert result.details["exit_code"] == 0
