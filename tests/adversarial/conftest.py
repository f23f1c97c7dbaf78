"""Shared machinery of the adversarial suite: judge an attack, then check the judge is unharmed.

Every attack test gets `attack`, a callable that judges a submission (source text) on
one backend and records the verdict for the report, with what the judge's own process
spent on it: CPU time and peak memory, held to JUDGE_CPU_BUDGET_S and
JUDGE_MEMORY_BUDGET_MB, so a judge-side denial of service fails the attack's test.
After each test the `unharmed` check runs an honest submission (it must get AC) and
looks for host traces: no process left running as the sandbox user, no new judge
folder in the temp folder, no container left behind, no cgroup left behind.

Set ADVERSARIAL_REPORT=path.json to write every (attack, backend, verdict) seen;
`python tests/adversarial/report.py path.json` prints the table.
"""

from __future__ import annotations

import json
import os
import resource
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
# What judging one attack may cost the judge's own process (not the sandbox, not the
# scorer): an honest run costs it about 0.1-0.5 s of CPU and a few MiB.
JUDGE_CPU_BUDGET_S = 5.0
JUDGE_MEMORY_BUDGET_MB = 256

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
        """Judge `source`; record its verdict and the judge's own cost, held to the budget.

        A file the judge refuses (InvalidSource) is recorded as CE and re-raised.
        """
        problem = BANK.problem(slug)
        cost = JudgeCost.start()
        verdict, exit_code = "CE", None
        try:
            result = run_submission(problem, source, self.sandbox, SECRET, BANK, cpuset)
            verdict, exit_code = str(result.verdict), result.details.get("exit_code")
            return result
        finally:
            cpu_s, peak_mb = cost.stop()
            _REPORT.append(
                {
                    "attack": self.test_name,
                    "backend": self.sandbox.name,
                    "verdict": verdict,
                    "exit_code": exit_code,
                    "leak": exit_code == FOUND,
                    "judge_cpu_s": round(cpu_s, 3),
                    "judge_peak_mb": round(peak_mb, 1),
                }
            )
            assert cpu_s < JUDGE_CPU_BUDGET_S, f"the judge spent {cpu_s:.1f} s of CPU"
            assert peak_mb < JUDGE_MEMORY_BUDGET_MB, f"the judge grew by {peak_mb:.0f} MiB"


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class JudgeCost:
    """The judge process's own CPU time and peak memory growth over one judgement.

    Peak memory: the kernel's high-water mark (VmHWM), reset at the start by writing 5
    to /proc/self/clear_refs, minus the resident size then.
    """

    cpu_start: float
    rss_start_kib: int

    @classmethod
    def start(cls) -> JudgeCost:
        Path("/proc/self/clear_refs").write_text("5")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(usage.ru_utime + usage.ru_stime, _status_kib("VmRSS"))

    def stop(self) -> tuple[float, float]:
        """Return (CPU seconds, peak MiB above the start)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak = max(0, _status_kib("VmHWM") - self.rss_start_kib)
        return usage.ru_utime + usage.ru_stime - self.cpu_start, peak / 1024


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
