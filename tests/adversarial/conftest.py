"""Shared machinery of the adversarial suite: judge an attack, then check the judge is unharmed.

Every attack test gets `attack`, a callable that judges a submission (source text) on
one backend and records the verdict for the report. After each test the `unharmed`
check runs an honest submission (it must get AC) and looks for host traces: no
process left running as the sandbox user, no new judge folder in the temp folder,
no container left behind, no cgroup left behind.

Set ADVERSARIAL_REPORT=path.json to write every (attack, backend, verdict) seen;
`python tests/adversarial/report.py path.json` prints the table.
"""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.runner import run_submission
from judge.sandbox.base import SANDBOX_UID, Sandbox
from judge.verdicts import Result, Verdict
from tests.backends import ISOLATING, get_backend

FIXTURES = Path(__file__).parent.parent / "fixtures"
BANK = Bank(FIXTURES / "bank")
SECRET = Secret(b"adversarial-secret-1d7c3a", "test")
HONEST = BANK.reference_dir / "threshold" / "accepted" / "solution.py"
FOUND = 42  # the exit code an attack uses to say "I got through"

_REPORT: list[dict[str, object]] = []
_TRACES: list[dict[str, object]] = []


@dataclass
class Attack:
    """Judges attack submissions on one backend and records what they got."""

    sandbox: Sandbox
    tmp_path: Path
    test_name: str

    def __call__(self, code: str, slug: str = "threshold", name: str = "attack.py") -> Result:
        source = self.tmp_path / name
        source.write_text(textwrap.dedent(code), encoding="utf-8")
        return self.judge_file(source, slug)

    def judge_file(
        self, source: Path, slug: str = "threshold", cpuset: tuple[int, ...] | None = None
    ) -> Result:
        problem = BANK.problem(slug)
        result = run_submission(problem, source, self.sandbox, SECRET, BANK, cpuset)
        _REPORT.append(
            {
                "attack": self.test_name,
                "backend": self.sandbox.name,
                "verdict": str(result.verdict),
                "exit_code": result.details.get("exit_code"),
                "leak": result.details.get("exit_code") == FOUND,
            }
        )
        return result


def _sandbox_user_processes() -> set[int]:
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(entry.path).st_uid == SANDBOX_UID:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def _judge_temp_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("judge-*")}


def _cgroup_leftovers() -> set[str]:
    leftovers = set()
    for root in Path("/sys/fs/cgroup").glob("*/olympiad-judge"):
        leftovers |= {str(p) for p in root.iterdir() if p.is_dir()}
    direct = Path("/sys/fs/cgroup/olympiad-judge")
    if direct.is_dir():
        leftovers |= {str(p) for p in direct.iterdir() if p.is_dir()}
    return leftovers


def _backend_params() -> list[object]:
    return [
        pytest.param(name, marks=[getattr(pytest.mark, name)] if name in ISOLATING else [])
        for name in ("process", *ISOLATING)
    ]


@pytest.fixture(params=_backend_params())
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def attack(request: pytest.FixtureRequest, backend_name: str, tmp_path: Path) -> Iterator[Attack]:
    """Judge attacks on one backend; afterwards, prove the judge and host are unharmed.

    A test marked `needs_isolation` is skipped on the process backend, which promises none.
    """
    if backend_name == "process" and request.node.get_closest_marker("needs_isolation"):
        pytest.skip("the process backend does not isolate (by design; see docs/security.md)")
    sandbox = get_backend(backend_name)
    # Compare against what existed before, so a concurrent session's runs are not blamed.
    before_temp = _judge_temp_folders()
    before_processes = _sandbox_user_processes()
    before_cgroups = _cgroup_leftovers()
    yield Attack(sandbox, tmp_path, request.node.originalname)
    honest = run_submission(BANK.problem("threshold"), HONEST, sandbox, SECRET, BANK)
    deadline = time.monotonic() + 5
    while _sandbox_user_processes() - before_processes and time.monotonic() < deadline:
        time.sleep(0.1)
    traces = []
    if _sandbox_user_processes() - before_processes:
        traces.append("a process of the sandbox user outlived the run")
    if not _judge_temp_folders() <= before_temp:
        traces.append("a run folder was left in the temp folder")
    if _cgroup_leftovers() - before_cgroups:
        traces.append("a run's cgroup was left behind")
    _TRACES.append(
        {
            "attack": request.node.originalname,
            "backend": backend_name,
            "honest_after": str(honest.verdict),
            "traces": traces,
        }
    )
    assert honest.verdict is Verdict.AC, f"honest run after the attack: {honest.message}"
    assert not traces, "; ".join(traces)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("ADVERSARIAL_REPORT")
    if path and _REPORT:
        report = {"runs": _REPORT, "after": _TRACES}
        Path(path).write_text(json.dumps(report, indent=1), encoding="utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole suite is slow (minutes): `make test-quick` leaves it to `make test` and CI."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
