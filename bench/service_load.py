"""The scaled-out stack under load, with 1 and then 2 Celery workers, on loopback only.

    python bench/service_load.py [--contestants 30] [--seconds 120] [--gap 8] [--workers 1 2]
                                 [--sandbox bwrap]

For each worker count it starts the stack of `make stack` (scripts/stack.sh: PostgreSQL,
Redis, the API and Celery workers, in a fresh temporary folder, on free 127.0.0.1
ports), adds the contestants, and for `--seconds` lets each of them, in a thread of its
own: log in with the login form, read the problem list and a problem page, then submit a
labelled file of the bank's quick function problems (accepted/ or wrong_answer/, drawn
at random) and poll it until it is judged, with exponential pauses of mean `--gap`
seconds between submissions. Then it stops submitting, waits for the queue to drain (at
most 10 minutes), stops the stack, and prints one table per worker count: submissions
accepted, verdicts delivered (they must be equal), verdicts against the file's label
(must be 0), queue wait (from the database: queued to claimed), page latency, upload-to-
verdict time and errors, with median, min, max and p95; then the throughput of each
worker count, judged runs per minute from the first queued to the last finished. Exits 1
if a submission was lost or misjudged. Not a test: machines are noisy, so compare the
two counts of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
JUDGE = str(ROOT / ".venv" / "bin" / "judge")
STACK = ROOT / "scripts" / "stack.sh"
# Function problems: a run takes about a second, so the queue, not torch, is measured.
PROBLEMS = ("conv-geometry", "norm-forward", "stable-bce", "ce-targets", "autograd-semantics")
LABELS = {"accepted": "AC", "wrong_answer": "WA"}
DRAIN_S = 600


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: dict[int, str] = field(default_factory=dict)  # submission id -> label
    delivered: dict[int, str] = field(default_factory=dict)  # submission id -> verdict
    page_s: list[float] = field(default_factory=list)
    verdict_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def labelled_files() -> list[tuple[str, Path, str]]:
    found = []
    for slug in PROBLEMS:
        for label, verdict in LABELS.items():
            folder = ROOT / "reference" / slug / label
            found += [(slug, path, verdict) for path in sorted(folder.glob("*.py"))]
    return found


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stack(action: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", str(STACK), action], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"stack {action} failed: {done.stdout}{done.stderr}")


def exported(folder: Path) -> dict[str, str]:
    lines = (folder / "env").read_text().splitlines()
    return dict(line.removeprefix("export ").split("=", 1) for line in lines)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def log_in(url: str, user: dict[str, str], tally: Tally) -> httpx.Client:
    """A browser's session: the login form, as a contestant signs in."""
    browser = httpx.Client(base_url=url, headers={"Accept": "text/html", "Origin": url}, timeout=60)
    started = time.monotonic()
    token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)
    answer = browser.post(
        "/login",
        data={
            "name": user["name"],
            "password": user["password"],
            "csrf": token.group(1) if token else "",
        },
    )
    with tally.lock:
        tally.page_s.append(time.monotonic() - started)
        if answer.status_code not in (200, 303):
            tally.errors.append(f"{answer.status_code} on /login")
    return browser


def contestant(
    url: str, user: dict[str, str], files: list[tuple[str, Path, str]], until: float,
    gap: float, seed: int, tally: Tally,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {user['token']}"}
    time.sleep(rng.uniform(0, gap))
    with (
        closing(log_in(url, user, tally)) as browser,
        httpx.Client(base_url=url, headers=headers, timeout=60) as client,
    ):
        while time.monotonic() < until:
            slug, path, label = rng.choice(files)
            try:
                for page in ("/", f"/problems/{slug}", "/submissions"):  # a browser reads
                    started = time.monotonic()
                    answer = browser.get(page)
                    elapsed = time.monotonic() - started
                    with tally.lock:
                        tally.page_s.append(elapsed)
                        if answer.status_code != 200:
                            tally.errors.append(f"{answer.status_code} on {page}")
                sent = time.monotonic()
                made = client.post(
                    "/api/v1/submissions",
                    data={"problem": slug},
                    files={"file": (path.name, path.read_bytes())},
                )
                if made.status_code not in (200, 201):
                    with tally.lock:
                        tally.errors.append(f"{made.status_code} on upload: {made.text[:80]}")
                    continue
                submission = made.json()["id"]
                with tally.lock:
                    tally.accepted[submission] = label
                deadline = time.monotonic() + DRAIN_S
                while time.monotonic() < deadline:
                    found = client.get(f"/api/v1/submissions/{submission}").json()
                    if found["state"] in ("done", "error"):
                        verdict = (found.get("result") or {}).get("verdict", "error")
                        with tally.lock:
                            tally.delivered[submission] = verdict
                            tally.verdict_s.append(time.monotonic() - sent)
                        break
                    time.sleep(0.25)
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(min(rng.expovariate(1 / gap), 4 * gap))


def measure(workers: int, args: argparse.Namespace) -> tuple[Tally, list[float], float]:
    folder = Path(tempfile.mkdtemp(prefix=f"load-{workers}-"))
    folder.chmod(0o755)
    env = {
        **os.environ,
        "STACK_DIR": str(folder),
        "STACK_PORT": str(free_port()),
        "STACK_WORKERS": str(workers),
        "STACK_SANDBOX": args.sandbox,
        "JUDGE_BANK": str(ROOT),
    }
    stack("up", env)
    try:
        stack_env = {**env, **exported(folder)}
        url = stack_env["STACK_URL"]
        users = []
        for index in range(args.contestants):
            made = subprocess.run(
                [JUDGE, "user", "add", f"load{index:03d}", "--data", str(folder / "data"),
                 "--json"],
                env=stack_env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            users.append(json.loads(made.stdout))
        tally = Tally()
        until = time.monotonic() + args.seconds
        files = labelled_files()
        threads = [
            threading.Thread(target=contestant, args=(url, user, files, until, args.gap, i, tally))
            for i, user in enumerate(users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + DRAIN_S + 60)
        engine = create_engine(stack_env["JUDGE_DATABASE_URL"])
        with engine.connect() as connection:
            rows = connection.execute(
                text("select queued_at, started_at, finished_at from run where state = 'done'")
            ).all()
        engine.dispose()
        waits = [(started - queued).total_seconds() for queued, started, _ in rows]
        span = (max(r[2] for r in rows) - min(r[0] for r in rows)).total_seconds() if rows else 0
        per_minute = 60 * len(rows) / span if span else 0.0
        return tally, waits, per_minute
    finally:
        stack("down", env)
        shutil.rmtree(folder, ignore_errors=True)


def stats_row(label: str, values: list[float], unit: str = "s") -> list[str]:
    if not values:
        return [label, "0", "", "", "", "", unit]
    return [
        label, str(len(values)), f"{statistics.median(values):.3f}", f"{min(values):.3f}",
        f"{max(values):.3f}", f"{p95(values):.3f}", unit,
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contestants", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--gap", type=float, default=8.0, help="mean pause between submissions")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sandbox", default="bwrap")
    args = parser.parse_args()
    if not (1 <= args.contestants <= 200 and 1 <= args.seconds <= 1800):
        raise SystemExit("bounded: 1-200 contestants, 1-1800 seconds")
    console = Console()
    lost_or_wrong = 0
    throughput = []
    for workers in args.workers:
        tally, waits, per_minute = measure(workers, args)
        wrong = [s for s, v in tally.delivered.items() if v != tally.accepted.get(s)]
        lost = len(tally.accepted) - len(tally.delivered)
        lost_or_wrong += lost + len(wrong)
        table = Table(title=f"{workers} Celery worker(s), {args.contestants} contestants, "
                            f"{args.seconds:g} s, {args.sandbox}")  # fmt: skip
        for column in ("what", "count", "median", "min", "max", "p95", "unit"):
            table.add_column(column, justify="left" if column == "what" else "right")
        table.add_row("submissions accepted", str(len(tally.accepted)), "", "", "", "", "")
        table.add_row("verdicts delivered", str(len(tally.delivered)), "", "", "", "", "")
        table.add_row("verdicts against the label", str(len(wrong)), "", "", "", "", "")
        table.add_row("errors", str(len(tally.errors)), "", "", "", "", "")
        table.add_row(*stats_row("queue wait (queued to claimed)", waits))
        table.add_row(*stats_row("upload to verdict", tally.verdict_s))
        table.add_row(*stats_row("page latency", tally.page_s))
        console.print(table)
        for error in sorted(set(tally.errors))[:5]:
            console.print(f"  error: {error}", highlight=False)
        throughput.append((workers, per_minute))
    summary = Table(title="throughput")
    summary.add_column("workers", justify="right")
    summary.add_column("judged runs per minute", justify="right")
    summary.add_column("ratio to the first", justify="right")
    for workers, per_minute in throughput:
        ratio = per_minute / throughput[0][1] if throughput[0][1] else 0.0
        summary.add_row(str(workers), f"{per_minute:.1f}", f"{ratio:.2f}")
    console.print(summary)
    return 1 if lost_or_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
