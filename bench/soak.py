"""A mock round under a realistic load, on loopback only: nothing lost, waits, memory.

    python bench/soak.py [--contestants 60] [--minutes 10] [--gap-minutes 5] [--sandbox bwrap]

Starts `judge serve --workers 2` (warm pool on) on a free 127.0.0.1 port with a fresh data
folder, imports the contestants, creates the bank's programs-round and starts it. Then, for
`--minutes`, every contestant behaves as one browser would:

    - keeps their /events stream open and, on each "done" event, fetches the submission
      (what live.js does);
    - submits one of the round's labelled reference files (accepted/ or wrong_answer/),
      drawn at random, after a random pause (exponential, mean `--gap-minutes`);
    - every other contestant keeps the live scoreboard open: a poll every 3 s (board.js).

After the last upload it waits for the queue to drain, then reports: submissions made,
verdicts delivered over the event streams (they must be equal), verdicts that disagree
with the file's label (must be 0), upload-to-verdict time, wait in the queue (from the
database), scoreboard and event-fetch times, and the resident memory (RSS) of the web
process and of each worker at rest (before the load) and at the end. Prints median, min,
max and p95 per row; exits 1 if a verdict was lost or wrong. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import yaml
from rich.console import Console
from rich.table import Table
from service import JUDGE, ROOT, browser, p95, start

ROUND = "programs-round"
LABELS = {"accepted": "AC", "wrong_answer": "WA"}
BOARD_POLL_S = 3.0


@dataclass
class Tally:
    made: dict[int, tuple[float, str]] = field(default_factory=dict)  # id -> (sent at, label)
    delivered: dict[int, float] = field(default_factory=dict)  # id -> first done event
    refused: list[str] = field(default_factory=list)
    upload_s: list[float] = field(default_factory=list)
    fetch_s: list[float] = field(default_factory=list)
    board_s: list[float] = field(default_factory=list)
    reconnects: int = 0
    failures: list[str] = field(default_factory=list)

    def answered(self, response: httpx.Response) -> None:
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} on {response.request.url.path}")


def labelled_files() -> list[tuple[str, Path, str]]:
    """(slug, file, expected verdict) for every labelled reference file of the round."""
    spec = yaml.safe_load((ROOT / "rounds" / f"{ROUND}.yaml").read_text(encoding="utf-8"))
    found = []
    for problem in spec["problems"]:
        for label, verdict in LABELS.items():
            folder = ROOT / "reference" / problem["slug"] / label
            found += [(problem["slug"], path, verdict) for path in sorted(folder.glob("*.py"))]
    return found


def import_users(data: Path, count: int, env: dict[str, str]) -> list[dict[str, str]]:
    listing = data.parent / "contestants.csv"
    listing.write_text("".join(f"contestant{i:02d}\n" for i in range(count)), encoding="utf-8")
    done = subprocess.run(
        [JUDGE, "user", "import", str(listing), "--data", str(data), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    users: list[dict[str, str]] = json.loads(done.stdout)
    return users


def organiser_token(data: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [JUDGE, "user", "add", "soak-organiser", "--organiser", "--data", str(data), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token: str = json.loads(done.stdout)["token"]
    return token


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def memory(serve_pid: int) -> dict[str, float]:
    """RSS of the web process and of each worker (its own, then with its sandboxes)."""
    found = {"web": rss_mib(serve_pid)}
    workers = [
        pid
        for pid in children(serve_pid)
        if "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        and "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    ]
    for index, pid in enumerate(sorted(workers), 1):
        found[f"worker {index}"] = rss_mib(pid)
        below, stack = 0.0, children(pid)
        while stack:
            child = stack.pop()
            try:
                below += rss_mib(child)
                stack += children(child)
            except OSError:
                pass  # gone meanwhile
        found[f"worker {index}: its sandboxes (RSS sum)"] = below
    return found


async def contestant(
    url: str,
    user: dict[str, str],
    files: list[tuple[str, Path, str]],
    rng: random.Random,
    mean_gap_s: float,
    until: float,
    watch_board: bool,
    tally: Tally,
) -> None:
    page = browser(url, user["name"], user["password"])  # the login form, as a browser
    jar = dict(page.cookies)
    page.close()
    headers = {"Accept": "application/json"}
    async with (
        httpx.AsyncClient(base_url=url, cookies=jar, headers=headers, timeout=60) as web,
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {user['token']}"}, timeout=60
        ) as api,
    ):
        tasks = [asyncio.create_task(follow(web, tally))]
        if watch_board:
            tasks.append(asyncio.create_task(board(web, until, tally)))
        while True:
            pause = rng.expovariate(1 / mean_gap_s)
            if time.perf_counter() + pause >= until:
                break
            await asyncio.sleep(pause)
            slug, path, verdict = rng.choice(files)
            started = time.perf_counter()
            response = await api.post(
                "/api/v1/submissions",
                data={"problem": slug},
                files={"file": (path.name, path.read_bytes())},
            )
            tally.upload_s.append(time.perf_counter() - started)
            if response.status_code != 201:
                tally.refused.append(f"{user['name']} {slug}: {response.text[:200]}")
                continue
            tally.made[response.json()["id"]] = (started, verdict)
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        await drained(tally, timeout=300)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def follow(web: httpx.AsyncClient, tally: Tally) -> None:
    """The contestant's /events stream, reconnected with Last-Event-ID when it ends or
    breaks (as EventSource does): record each verdict, fetch it as live.js does."""
    last = "0"
    while True:
        try:
            async with web.stream(
                "GET", "/events", headers={"Last-Event-ID": last}, timeout=None
            ) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("id: "):
                        last = line[4:]
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if event.get("state") not in ("done", "error"):
                        continue
                    tally.delivered.setdefault(event["submission"], time.perf_counter())
                    started = time.perf_counter()
                    fetched = await web.get(f"/api/v1/submissions/{event['submission']}")
                    tally.fetch_s.append(time.perf_counter() - started)
                    tally.answered(fetched)
            tally.reconnects += 1
        except httpx.HTTPError as exc:
            tally.failures.append(f"event stream broke: {type(exc).__name__}: {exc}")
            await asyncio.sleep(1.0)


async def board(web: httpx.AsyncClient, until: float, tally: Tally) -> None:
    while time.perf_counter() < until:
        started = time.perf_counter()
        polled = await web.get(f"/api/v1/rounds/{ROUND}/scoreboard")
        tally.board_s.append(time.perf_counter() - started)
        tally.answered(polled)
        await asyncio.sleep(BOARD_POLL_S)


async def drained(tally: Tally, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and not set(tally.made) <= set(tally.delivered):
        await asyncio.sleep(0.5)


async def load(url: str, users: list[dict[str, str]], args: argparse.Namespace) -> Tally:
    files = labelled_files()
    tally = Tally()
    until = time.perf_counter() + args.minutes * 60
    rng = random.Random(args.seed)
    await asyncio.gather(
        *(
            contestant(
                url,
                user,
                files,
                random.Random(rng.random()),
                args.gap_minutes * 60,
                until,
                index % 2 == 0,
                tally,
            )
            for index, user in enumerate(users)
        )
    )
    return tally


def wrong_verdicts(url: str, token: str, tally: Tally) -> list[str]:
    wrong = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        for submission, (_, expected) in tally.made.items():
            seen = api.get(f"/api/v1/submissions/{submission}").json()
            verdict = (seen.get("result") or {}).get("verdict")
            if verdict != expected:
                wrong.append(f"submission {submission} ({seen.get('problem')}): {verdict}")
    return wrong


def queue_waits(data: Path) -> list[float]:
    """Seconds from queued to claimed, for each run that was judged."""
    with sqlite3.connect(data / "judge.db") as connection:
        rows = connection.execute(
            "select queued_at, started_at from run where state = 'done'"
        ).fetchall()
    return [
        (datetime.fromisoformat(started) - datetime.fromisoformat(queued)).total_seconds()
        for queued, started in rows
    ]


def row(label: str, values: list[float], unit: str = "s") -> list[str]:
    if not values:
        return [label, "0", "", "", "", "", unit]
    return [
        label,
        str(len(values)),
        f"{statistics.median(values):.3f}",
        f"{min(values):.3f}",
        f"{max(values):.3f}",
        f"{p95(values):.3f}",
        unit,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contestants", type=int, default=60)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--gap-minutes", type=float, default=5.0)
    parser.add_argument("--sandbox", default="bwrap")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rest-s", type=float, default=20.0, help="settle before measuring")
    parser.add_argument("--log", type=Path, help="keep the service's output here")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
        data = Path(folder) / "data"
        env = {**os.environ, "JUDGE_BANK": str(ROOT), "JUDGE_SECRET": "bench-soak-secret"}
        log = Path(folder) / "serve.log"
        process, url = start(data, args.sandbox, env, log)
        try:
            users = import_users(data, args.contestants, env)
            token = organiser_token(data, env)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as boss:
                boss.post("/api/v1/rounds", json={"bank_round": ROUND}).raise_for_status()
                boss.post(f"/api/v1/rounds/{ROUND}/start").raise_for_status()
            time.sleep(args.rest_s)  # the workers' warm pools are up
            at_rest = memory(process.pid)
            started = time.perf_counter()
            tally = asyncio.run(load(url, users, args))
            elapsed = time.perf_counter() - started
            at_end = memory(process.pid)
            wrong = wrong_verdicts(url, token, tally)
            waits = queue_waits(data)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            errors = sorted({line for line in log.read_text().splitlines() if "Error" in line})
            if args.log:
                args.log.write_text(log.read_text())
    lost = sorted(set(tally.made) - set(tally.delivered))
    latency = [tally.delivered[i] - sent for i, (sent, _) in tally.made.items() if i not in lost]
    counts = Table("what", "count", title=f"{args.contestants} contestants, {elapsed:.0f} s")
    for label, value in (
        ("submissions made", len(tally.made)),
        ("verdicts delivered (events)", len(set(tally.made) & set(tally.delivered))),
        ("verdicts lost", len(lost)),
        ("verdicts that disagree with the label", len(wrong)),
        ("uploads refused", len(tally.refused)),
        ("event streams reconnected (the server ends one after 5 min)", tally.reconnects),
        ("server errors and broken streams", len(tally.failures)),
    ):
        counts.add_row(label, str(value))
    console.print(counts)
    times = Table("row", "n", "median", "min", "max", "p95", "unit", title="times")
    for cells in (
        row("upload -> verdict event", latency),
        row("wait in queue (queued -> claimed)", waits),
        row("upload request", tally.upload_s),
        row("fetch after an event (live.js)", tally.fetch_s),
        row(f"scoreboard poll (every {BOARD_POLL_S:.0f} s)", tally.board_s),
    ):
        times.add_row(*cells)
    console.print(times)
    rss = Table("process", "RSS at rest (MiB)", "RSS at the end (MiB)", title="memory")
    for name, value in at_rest.items():
        rss.add_row(name, f"{value:.0f}", f"{at_end.get(name, 0.0):.0f}")
    console.print(rss)
    failures = sorted(set(tally.failures), key=tally.failures.index)
    for line in (wrong + tally.refused + failures + errors)[:30]:
        console.print(line, highlight=False)
    if lost or wrong or tally.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
