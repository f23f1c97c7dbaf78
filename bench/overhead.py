"""Judge overhead per backend against bare `python`, for a trivial and a torch-importing file.

    python bench/overhead.py [-n 5] [--backends process,bwrap,docker]

For each backend, judges each submission N times end to end (draw data, prepare
folders, sandbox, score) and times it; runs the same file N times with bare python
on the same data. Prints median, min and max seconds, and the median overhead.
Not a test: machines are noisy, so read the ratios within one run.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from judge.bank import Bank
from judge.data import Secret, draw_train_predict, write_public_train_predict
from judge.errors import SandboxUnavailable
from judge.runner import run_submission
from judge.sandbox import open_sandbox
from judge.verdicts import Verdict

ROOT = Path(__file__).resolve().parent.parent
BANK = Bank(ROOT / "tests" / "fixtures" / "bank")
SECRET = Secret(b"bench-overhead", "bench")
TRIVIAL = (BANK.reference_dir / "threshold" / "accepted" / "solution.py").read_text()
SUBMISSIONS = {"trivial (numpy)": TRIVIAL, "imports torch": "import torch\n" + TRIVIAL}


def timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def bare_python(path: Path, data: Path, output: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(data),
        "OUTPUT_DIR": str(output),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    subprocess.run([sys.executable, "-I", str(path)], env=env, check=True)


def row(samples: list[float]) -> tuple[str, str, str]:
    return (f"{statistics.median(samples):.3f}", f"{min(samples):.3f}", f"{max(samples):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per cell")
    parser.add_argument("--backends", default="process,bwrap,docker")
    args = parser.parse_args()
    problem = BANK.problem("threshold")
    logging.basicConfig(level=logging.ERROR)
    console = Console(width=150)
    table = Table(
        "backend",
        "submission",
        "judged median s",
        "min s",
        "max s",
        "bare python median s",
        "overhead (median)",
        title=f"judge overhead, n={args.n}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, output = work / "data", work / "output"
        write_public_train_predict(
            draw_train_predict(problem.spec, BANK.datasets_dir, SECRET), data, include_test=True
        )
        output.mkdir()
        files = {}
        for label, text in SUBMISSIONS.items():
            files[label] = work / f"{label.split()[0]}.py"
            files[label].write_text(text)
        for path in files.values():  # warm the page cache before anything is timed
            bare_python(path, data, output)
        for name in args.backends.split(","):
            try:
                sandbox = open_sandbox(name).sandbox
            except SandboxUnavailable as exc:
                console.print(f"[yellow]{name}: skipped ({exc})[/]")
                continue
            for label, path in files.items():
                samples, bare = [], []
                for _ in range(args.n):  # interleaved, so drift hits both alike
                    bare.append(timed(lambda p=path: bare_python(p, data, output)))
                    start = time.perf_counter()
                    result = run_submission(problem, path, sandbox, SECRET, BANK)
                    samples.append(time.perf_counter() - start)
                    assert result.verdict is Verdict.AC, result.message
                base = statistics.median(bare)
                overhead = statistics.median(samples) - base
                table.add_row(
                    name,
                    label,
                    *row(samples),
                    f"{base:.3f}",
                    f"{overhead:+.3f} s (x{statistics.median(samples) / base:.2f})",
                )
    console.print(table)


if __name__ == "__main__":
    main()
