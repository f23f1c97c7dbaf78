"""The warm pool on the real backends (docker, bwrap): single-use slots that leave no
trace for the next run, fair timing from the hand-off, recovery from a slot killed
while idle, and every labelled submission of the bank keeping its verdict warm."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from judge.bank import Bank, labelled_submissions
from judge.data import Secret
from judge.runner import Judge, as_result
from judge.sandbox import open_sandbox
from judge.sandbox.base import CODE_DIR, DATA_DIR, OUTPUT_DIR, Limits, Mount, RunFacts
from judge.sandbox.pool import WarmPool
from judge.sandbox.workspace import capped_directory
from tests.backends import ISOLATING_PARAMS, get_backend

ROOT = Path(__file__).resolve().parent.parent.parent
BANK = Bank(ROOT)
SECRET = Secret(b"warm-pool-9c41", "test")
# Runs wait for a slot rather than start cold: every run here must be warm.
WAIT_S = 120


def warm_pool(backend: str, size: int = 1) -> WarmPool:
    """Open a fresh backend (not the shared one: closing a pool closes it) with a pool."""
    get_backend(backend)  # skip, or fail under CI, when the backend is missing
    pool = open_sandbox(backend, warm=True, pool_size=size).sandbox
    assert isinstance(pool, WarmPool)
    pool._wait_s = WAIT_S
    return pool


@pytest.fixture(params=ISOLATING_PARAMS)
def pool(request: pytest.FixtureRequest) -> Iterator[WarmPool]:
    with warm_pool(request.param) as opened:
        assert opened.wait_ready(WAIT_S), opened.stats()
        yield opened


def run_script(
    pool: WarmPool, tmp_path: Path, script: str, wall_s: float = 30, name: str = "run"
) -> tuple[RunFacts, Path]:
    """Run `script` in the pool as the runner would; return the facts and the output folder."""
    with ExitStack() as stack:
        root = tmp_path / name
        code, data = root / "code", root / "data"
        code.mkdir(parents=True)
        data.mkdir()
        (code / "main.py").write_text(textwrap.dedent(script), encoding="utf-8")
        output = stack.enter_context(capped_directory(root / "output", 16))
        mounts = [Mount(code, CODE_DIR), Mount(data, DATA_DIR), Mount(output, OUTPUT_DIR, True)]
        limits = Limits(wall_s=wall_s, memory_mb=1024, cpuset=(0,), output_mb=16)
        facts = pool.run([pool.python, "-I", f"{CODE_DIR}/main.py"], mounts, limits, {})
        assert facts.warm, facts
        kept = tmp_path / f"{name}-kept"
        kept.mkdir()
        for path in output.iterdir():
            shutil.move(path, kept / path.name)
        return facts, kept


def printed(facts: RunFacts) -> Any:
    assert facts.exit_code == 0, facts.stderr_tail
    return json.loads(facts.stdout_tail.strip().splitlines()[-1])


CANARY_KEY = 0x4A554447

LEAVE_TRACES = f"""
import ctypes, os, socket, sys, time
import torch
token = "canary-token"
for folder in ("/tmp", "/dev/shm", os.environ["HOME"], "/sandbox/output"):
    with open(os.path.join(folder, "canary.txt"), "w") as handle:
        handle.write(token)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget({CANARY_KEY}, 4096, 0o1000 | 0o666)
torch.canary = token
torch.nn.Linear = None
sys.modules["canary_module"] = object()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind("\\0olympiad-canary")
        server.listen()
        time.sleep(120)
    os._exit(0)
time.sleep(0.5)
print("{{}}")
"""

FIND_TRACES = f"""
import ctypes, json, os, socket, sys
import torch
found = []
for folder in ("/tmp", "/dev/shm", os.environ["HOME"], "/sandbox/output"):
    if os.path.exists(os.path.join(folder, "canary.txt")):
        found.append(folder)
libc = ctypes.CDLL(None, use_errno=True)
if libc.shmget({CANARY_KEY}, 0, 0) != -1:
    found.append("sysv shm")
probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    probe.connect("\\0olympiad-canary")
    found.append("abstract socket")
except OSError:
    pass
if hasattr(torch, "canary") or not isinstance(torch.nn.Linear, type):
    found.append("patched torch")
if "canary_module" in sys.modules:
    found.append("sys.modules")
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            name = open(f"/proc/{{pid}}/comm").read().strip()
        except OSError:
            continue
        if name.startswith("python"):  # the sandbox's own are bwrap or sleep
            found.append(f"process {{pid}} ({{name}})")
print(json.dumps(found))
"""


@pytest.mark.slow
def test_what_one_run_leaves_the_next_slot_does_not_see(pool: WarmPool, tmp_path: Path) -> None:
    first, kept = run_script(pool, tmp_path, LEAVE_TRACES, name="first")
    assert first.exit_code == 0, first.stderr_tail
    assert (kept / "canary.txt").read_text() == "canary-token"  # its outputs came back
    second, _ = run_script(pool, tmp_path, FIND_TRACES, name="second")
    assert printed(second) == []


SNAPSHOT = """
import hashlib, json, random
import numpy, torch
maps = open("/proc/self/maps").read()
print(json.dumps({
    "numpy": [int(x) for x in numpy.random.get_state()[1][:4]],
    "random": random.getrandbits(64),
    "maps": hashlib.sha256(maps.encode()).hexdigest(),
    "torch_seed": torch.initial_seed(),
}))
"""


@pytest.mark.slow
def test_two_slots_differ_in_random_state_and_layout(pool: WarmPool, tmp_path: Path) -> None:
    one = printed(run_script(pool, tmp_path, SNAPSHOT, name="one")[0])
    two = printed(run_script(pool, tmp_path, SNAPSHOT, name="two")[0])
    assert one["numpy"] != two["numpy"]
    assert one["random"] != two["random"]
    assert one["maps"] != two["maps"]
    assert one["torch_seed"] != two["torch_seed"]  # torch seeds itself per process, as cold


@pytest.mark.slow
def test_a_sleep_is_timed_from_the_hand_off(pool: WarmPool, tmp_path: Path) -> None:
    facts, _ = run_script(pool, tmp_path, "import time\ntime.sleep(2)\n")
    assert facts.exit_code == 0 and not facts.timed_out
    assert 2.0 <= facts.wall_s <= 2.5, facts.wall_s
    assert facts.cpu_s < 0.5  # the imports before the hand-off are not billed


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass\n",
        "import time\n"
        "time.monotonic = time.time = time.perf_counter = lambda: 0.0\n"
        "while True:\n    pass\n",
    ],
    ids=["busy-loop", "patched-clocks"],
)
def test_a_busy_loop_gets_tle_one_wall_limit_after_the_hand_off(
    pool: WarmPool, tmp_path: Path, script: str
) -> None:
    facts, _ = run_script(pool, tmp_path, script, wall_s=2)
    assert facts.timed_out
    assert 2.0 <= facts.wall_s <= 2.6, facts.wall_s
    assert facts.cpu_s >= 1.5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ISOLATING_PARAMS)
def test_a_slot_killed_while_idle_is_replaced_and_the_run_still_judged(
    backend: str, tmp_path: Path
) -> None:
    with warm_pool(backend) as pool:
        assert pool.wait_ready(WAIT_S)
        slot: Any = pool._slots[0].slot
        if backend == "bwrap":
            slot._cgroup.kill()  # as the OOM killer would
        else:
            slot._container.kill()  # as an engine restart would
        facts, kept = run_script(pool, tmp_path, "open('/sandbox/output/ok', 'w').write('ok')")
        assert facts.exit_code == 0, facts.stderr_tail
        assert (kept / "ok").read_text() == "ok"
        assert pool.wait_ready(WAIT_S)


# Every labelled file of the bank runs warm on bwrap; docker runs a sample: both kinds,
# with and without torch, the largest peak memory (unet-skip), image augmentation and a
# grouped split. The hand-off, limits and copy-back are the same code for every file;
# the full docker sweep would add four minutes to `make test` and take no other path.
DOCKER_SAMPLE = (
    "conv-geometry",
    "autograd-semantics",
    "missing-zero-grad",
    "unet-skip",
    "digits-augment",
    "leak-split",
)
# A quiz runs nothing: no sandbox, warm or cold, ever sees it.
PROGRAMS = [slug for slug in BANK.slugs() if BANK.problem(slug).spec.runs]
BANK_CASES = [
    pytest.param("bwrap", slug, marks=pytest.mark.bwrap, id=f"bwrap-{slug}") for slug in PROGRAMS
] + [
    pytest.param("docker", slug, marks=pytest.mark.docker, id=f"docker-{slug}")
    for slug in DOCKER_SAMPLE
]


class _BankJudges:
    """One warm Judge at a time: the previous backend's pool closes when the next opens."""

    def __init__(self) -> None:
        self.backend: str | None = None
        self.pool: WarmPool | None = None
        self.judge: Judge | None = None

    def on(self, backend: str) -> Judge:
        if self.backend != backend or self.judge is None:
            self.close()
            self.pool = warm_pool(backend, size=2)
            self.backend, self.judge = backend, Judge(BANK, self.pool, SECRET)
        return self.judge

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self.backend = self.pool = self.judge = None


@pytest.fixture(scope="module")
def bank_judges() -> Iterator[_BankJudges]:
    judges = _BankJudges()
    try:
        yield judges
    finally:
        judges.close()


def test_the_docker_sample_names_problems_of_the_bank() -> None:
    assert set(DOCKER_SAMPLE) <= set(BANK.slugs())
    kinds = {BANK.problem(slug).spec.kind for slug in DOCKER_SAMPLE}
    assert kinds == {BANK.problem(slug).spec.kind for slug in PROGRAMS}


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "slug"), BANK_CASES)
def test_every_labelled_submission_keeps_its_verdict_warm(
    bank_judges: _BankJudges, backend: str, slug: str
) -> None:
    judge = bank_judges.on(backend)
    problem = BANK.problem(slug)
    wrong = []
    for item in labelled_submissions(problem):
        result = as_result(judge.judge(problem, item.path), problem)
        assert result.details["warm"], result
        if result.verdict is not item.expected:
            wrong.append(
                f"{item.label}: {result.verdict}, expected {item.expected}: {result.message}"
            )
    assert not wrong, "\n".join(wrong)
