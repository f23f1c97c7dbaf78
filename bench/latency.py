"""Verdict latency per backend: from "judge this file" to its Result, against bare python.

    python bench/latency.py [-n 5] [--backends bwrap,docker] [--json]

Two submissions from the bank: a function problem's reference (conv-geometry: no
torch) and a small torch training run (missing-zero-grad's reference). For each
backend and submission, the judged mode is timed inside this one process through a
single Judge (the service's view: no CLI start-up; the first, untimed run warms the
page cache and the scorer server):

    cold     a fresh sandbox per run (the backend without its pool)
    warm     the run handed to a ready slot of the backend's warm pool
             (judge.sandbox.pool); the wait for the slot to be ready is not timed:
             the service's view when the pool keeps up

Beside them, as subprocesses on the same files and data:

    bare     `python` running the submission exactly as the sandbox would (the
             function harness for a function problem), with no sandbox
    imports  `python` running a file that only imports what a warm sandbox holds
             imported (torch, numpy, scikit-learn), so `bare - imports` is the
             submission's own work

Prints median, min and max seconds over N, for judged modes the judge's cost over
bare, and for warm rows the goal of issue 12: warm <= (bare - imports) + 0.3 s, the
judge adding at most 0.3 s to the submission's own work. With --json: a list of
rows {"backend", "submission", "mode", "median_s", "min_s", "max_s"} (backend
"bare" for the bare and imports rows). Not a test:
machines are noisy, so compare within one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from judge.bank import Bank
from judge.data import Secret
from judge.errors import SandboxUnavailable
from judge.runner import Judge, PreparedRun, as_result
from judge.sandbox import open_sandbox
from judge.sandbox.pool import WarmPool
from judge.sandbox.process import ProcessSandbox
from judge.sandbox.warm_agent import PRELOAD
from judge.verdicts import Verdict

ROOT = Path(__file__).resolve().parent.parent
BANK = Bank(ROOT)
SECRET = Secret(b"bench-latency", "bench")
SUBMISSIONS = {
    "function (conv-geometry)": "conv-geometry",
    "torch training (missing-zero-grad)": "missing-zero-grad",
}
IMPORTS = f"import {', '.join(PRELOAD)}\n"  # what a warm slot holds imported
GOAL_S = 0.3


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
    }


def timed(
    action: Callable[[], object], n: int, setup: Callable[[], object] | None = None
) -> list[float]:
    """Return the seconds of `n` calls of `action`, each after an untimed `setup`."""
    samples = []
    for _ in range(n):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def on_host(prepared: PreparedRun) -> tuple[list[str], dict[str, str]]:
    """Return the prepared command and environment with sandbox paths made host paths."""
    table = [(m.target, str(m.source)) for m in prepared.mounts]

    def rewrite(value: str) -> str:
        for target, source in table:
            if value == target or value.startswith(target + "/"):
                return source + value[len(target) :]
        return value

    env = {key: rewrite(value) for key, value in prepared.env.items()}
    env |= {"PATH": os.environ.get("PATH", ""), "HOME": str(prepared.output)}
    env |= {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return [sys.executable, *map(rewrite, prepared.command[1:])], env


def bare_rows(slug: str, label: str, n: int) -> list[dict[str, Any]]:
    """Time the submission and the pre-imports as plain subprocesses."""
    problem = BANK.problem(slug)
    source = problem.reference_folder / "accepted" / "solution.py"
    judge = Judge(BANK, ProcessSandbox(), SECRET)
    rows = []
    with judge.prepare(problem, source) as prepared:
        command, env = on_host(prepared)
        runs: dict[str, Callable[[], object]] = {
            "bare": lambda: subprocess.run(command, env=env, check=True, capture_output=True),
            "imports": lambda: subprocess.run([sys.executable, "-I", "-c", IMPORTS], check=True),
        }
        for mode, run in runs.items():
            run()  # warm the page cache
            rows.append(
                {"backend": "bare", "submission": label, "mode": mode, **stats(timed(run, n))}
            )
    return rows


IDLE_SLOT_MB: dict[str, list[float]] = {}  # backend -> memory of ready slots, MiB


def judged_rows(backend: str, n: int) -> list[dict[str, Any]]:
    """Time each submission judged on `backend`, cold and warm (noting idle slots' memory)."""
    rows = []
    for mode in ("cold", "warm"):
        sandbox = open_sandbox(backend, warm=mode == "warm").sandbox
        setup = None
        if isinstance(sandbox, WarmPool):

            def setup(pool: WarmPool = sandbox) -> None:
                if not pool.wait_ready(120):
                    raise RuntimeError(f"the {backend} pool did not fill: {pool.stats()}")
                IDLE_SLOT_MB.setdefault(backend, []).extend(pool.stats()["ready_slot_mb"])

        with closing(sandbox), Judge(BANK, sandbox, SECRET) as judge:
            for label, slug in SUBMISSIONS.items():
                problem = BANK.problem(slug)
                source = problem.reference_folder / "accepted" / "solution.py"

                def once(problem: Any = problem, source: Path = source, mode: str = mode) -> None:
                    result = as_result(judge.judge(problem, source), problem)
                    assert result.verdict is Verdict.AC, result.message
                    assert result.details["warm"] is (mode == "warm"), result

                if setup is not None:
                    setup()
                once()  # warms the page cache, the scorer and the expected answers
                samples = timed(once, n, setup)
                rows.append(
                    {"backend": backend, "submission": label, "mode": mode, **stats(samples)}
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per cell")
    parser.add_argument("--backends", default="bwrap,docker")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    console = Console(width=150, stderr=args.json)
    rows: list[dict[str, Any]] = []
    for label, slug in SUBMISSIONS.items():
        rows += bare_rows(slug, label, args.n)
    for backend in args.backends.split(","):
        try:
            rows += judged_rows(backend, args.n)
        except SandboxUnavailable as exc:
            console.print(f"[yellow]{backend}: skipped ({exc})[/]")
    if args.json:
        print(json.dumps(rows))
        return
    bare = {r["submission"]: r["median_s"] for r in rows if r["mode"] == "bare"}
    imports = {r["submission"]: r["median_s"] for r in rows if r["mode"] == "imports"}
    table = Table(
        "backend",
        "submission",
        "mode",
        "median s",
        "min s",
        "max s",
        "judge's cost over bare",
        f"goal: (bare - imports) + {GOAL_S}",
        title=f"verdict latency, n={args.n}",
    )
    for row in rows:
        cost = goal = ""
        if row["backend"] != "bare":
            cost = f"{row['median_s'] - bare[row['submission']]:+.3f} s"
        if row["mode"] == "warm":
            # A submission that imports less than the pool holds (numpy only) pays no
            # stack import bare: all of its bare time is its own work.
            own = bare[row["submission"]] - imports[row["submission"]]
            target = (own if own > 0 else bare[row["submission"]]) + GOAL_S
            goal = f"{target:.3f} s " + ("met" if row["median_s"] <= target else "missed")
        table.add_row(
            row["backend"],
            row["submission"],
            row["mode"],
            f"{row['median_s']:.3f}",
            f"{row['min_s']:.3f}",
            f"{row['max_s']:.3f}",
            cost,
            goal,
        )
    console.print(table)
    for backend, sizes in IDLE_SLOT_MB.items():
        if sizes:
            console.print(
                f"{backend}: a ready warm slot holds {statistics.median(sizes):.0f} MiB "
                f"(median of {len(sizes)}; min {min(sizes):.0f}, max {max(sizes):.0f})"
            )


if __name__ == "__main__":
    main()
