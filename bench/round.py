"""Wall time to judge a mock round of synthetic contestants, at --jobs 1 and --jobs 2.

    python bench/round.py [--round programs-round] [--contestants 10] [-n 1] [--sandbox docker]

Each synthetic contestant hands in, for every problem of the round, one of the bank's
labelled submissions (the reference, a wrong answer or the starter), chosen by a fixed
seed and the contestant's skill; some hand in the starter first and a fix later, one
works in notebooks, one crashes, one leaves a problem out. Every repetition judges the
whole round from an empty results folder. Prints a table (median, min, max) per job
count and the speed-up of the median, measured in one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from judge.bank import Bank, labelled_submissions  # noqa: E402
from judge.data import resolve_secret  # noqa: E402
from judge.rounds.jsonl_store import JsonlStore  # noqa: E402
from judge.rounds.judging import judge_round  # noqa: E402
from judge.rounds.roundfile import Round, load_round, round_path  # noqa: E402
from judge.rounds.submissions import discover  # noqa: E402
from judge.sandbox import open_sandbox  # noqa: E402
from judge.verdicts import Verdict  # noqa: E402


def as_notebook(source: Path, target: Path) -> None:
    """Write `source` as a two-cell notebook (imports, then the rest)."""
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    cut = max((i for i, line in enumerate(lines) if line.startswith(("import", "from"))), default=0)
    while cut < len(lines) - 1 and lines[cut].strip():  # end the cell at a blank line
        cut += 1
    cells = [nbformat.v4.new_code_cell("".join(lines[: cut + 1]))]
    cells.append(nbformat.v4.new_code_cell("".join(lines[cut + 1 :])))
    target.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), encoding="utf-8")


def synthetic_contestants(round_: Round, folder: Path, count: int, seed: int = 7) -> int:
    """Write `count` contestants' files under `folder`; return how many files."""
    rng = random.Random(seed)
    files = 0
    for number in range(count):
        name = f"contestant-{number:02d}"
        skill = (number + 1) / (count + 1)
        for slug, problem in round_.problems.items():
            if name.endswith("03") and slug == round_.slugs[-1]:
                continue  # a missing file
            items = labelled_submissions(problem)
            accepted = [i for i in items if i.expected is Verdict.AC]
            others = [i for i in items if i.expected is not Verdict.AC]
            picks = []
            if rng.random() < 0.3:
                picks.append(next(i for i in items if i.label == "starter"))
            picks.append(rng.choice(accepted if rng.random() < skill else others))
            for order, item in enumerate(picks):
                stamp = f"20261205T{9 + order:02d}{rng.randrange(60):02d}00Z"
                target = folder / name / f"{slug}.{stamp}.py"
                target.parent.mkdir(parents=True, exist_ok=True)
                if name.endswith("05"):
                    as_notebook(item.path, target.with_suffix(".ipynb"))
                elif name.endswith("07") and order == len(picks) - 1 and slug == round_.slugs[0]:
                    target.write_text("raise SystemExit('crashed on purpose')\n")
                else:
                    shutil.copyfile(item.path, target)
                files += 1
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round", default="programs-round")
    parser.add_argument("--contestants", type=int, default=10)
    parser.add_argument("-n", "--repeat", type=int, default=1)
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    bank = Bank(ROOT)
    round_ = load_round(bank, round_path(bank, args.round))
    choice = open_sandbox(args.sandbox, os.environ.get("JUDGE_SANDBOX_IMAGE"))
    secret = resolve_secret(os.environ.get("JUDGE_SECRET") or "bench-round-secret", None)
    timings: dict[int, list[float]] = {jobs: [] for jobs in args.jobs}
    judged = 0
    with tempfile.TemporaryDirectory(prefix="bench-round-") as tmp:
        subs = Path(tmp) / "subs"
        files = synthetic_contestants(round_, subs, args.contestants)
        print(
            f"{round_.name}: {args.contestants} contestants, {files} files, "
            f"sandbox {choice.sandbox.name}",
            flush=True,
        )
        for _ in range(args.repeat):
            for jobs in args.jobs:
                results = Path(tmp) / f"results-{jobs}"
                shutil.rmtree(results, ignore_errors=True)
                started = time.monotonic()
                found = discover(round_, subs)
                summary = judge_round(
                    round_, bank, found, JsonlStore(results), choice.sandbox, secret, jobs
                )
                timings[jobs].append(time.monotonic() - started)
                judged = summary.judged
                print(
                    f"  --jobs {jobs}: {summary.judged} judged in {timings[jobs][-1]:.1f} s",
                    flush=True,
                )
    print("\n| --jobs | files (judged) | median s | min s | max s | speed-up vs --jobs 1 |")
    print("|---|---|---|---|---|---|")
    base = statistics.median(timings[args.jobs[0]])
    for jobs, values in timings.items():
        median = statistics.median(values)
        print(
            f"| {jobs} | {files} ({judged}) | {median:.1f} | {min(values):.1f} | {max(values):.1f} "
            f"| x{base / median:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
