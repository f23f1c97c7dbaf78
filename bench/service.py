"""The live service under load, on loopback only: verdict latency and page times.

    python bench/service.py [-n 10] [--sandbox bwrap] [--clients 50] [--seconds 20] [--json]

Starts `judge serve --workers 2` (warm pool on) on a free 127.0.0.1 port with a fresh
data folder, then measures:

    verdict  from the upload (POST /api/v1/submissions) to the "done" event on the
             contestant's /events stream, for a function problem's reference
             (conv-geometry) and a small torch training run (missing-zero-grad's
             reference), N times each, one at a time, paced as a contestant
             would (the next upload after `--gap` seconds), beside the run's own
             wall time inside the sandbox (the Result's wall_s)
    pages    `--clients` logged-in clients on loopback requesting the practice page
             and their submissions page for `--seconds` seconds: p50 and p95

Prints median, min, max (and p95) per row. Every request goes to the listener this
script started; it stops the service when done. Not a test: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
JUDGE = str(Path(sys.executable).parent / "judge")
SUBMISSIONS = {
    "function (conv-geometry)": (
        "conv-geometry",
        ROOT / "reference/conv-geometry/accepted/solution.py",
    ),
    "torch (missing-zero-grad)": (
        "missing-zero-grad",
        ROOT / "reference/missing-zero-grad/accepted/solution.py",
    ),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(
    data: Path, sandbox: str, env: dict[str, str], log: Path | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start `judge serve --workers 2`; its output goes to `log` (else nowhere)."""
    port = free_port()
    output = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            JUDGE,
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            "2",
            "--sandbox",
            sandbox,
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not start")


def add_user(data: Path, name: str, env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(
        [JUDGE, "user", "add", name, "--data", str(data), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    made: dict[str, str] = json.loads(done.stdout)
    return made


def browser(url: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, headers={"Accept": "text/html", "Origin": url})
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"name": name, "password": password, "csrf": token.group(1)})
    return client


class Events:
    """Follows one user's /events stream in a thread; records when each run was done."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.done: dict[int, float] = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        try:
            with self.client.stream("GET", "/events", timeout=None) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        if event.get("state") in ("done", "error"):
                            with self.cond:
                                self.done[event["submission"]] = time.perf_counter()
                                self.cond.notify_all()
        except httpx.HTTPError:
            pass  # the service stopped: the bench is over

    def wait(self, submission: int, timeout: float = 300) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: submission in self.done, timeout):
                raise SystemExit(f"no verdict event for submission {submission}")
            return self.done[submission]


def verdict_latency(url: str, user: dict[str, str], n: int, gap: float) -> dict[str, Any]:
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {user['token']}"})
    events = Events(browser(url, user["name"], user["password"]))
    time.sleep(1.0)  # the stream is open
    rows: dict[str, Any] = {}
    for label, (slug, path) in SUBMISSIONS.items():
        content = path.read_bytes()
        latencies, own, warm = [], [], 0
        for index in range(n + 1):  # the first warms the page cache: not counted
            time.sleep(gap)
            started = time.perf_counter()
            made = api.post(
                "/api/v1/submissions", data={"problem": slug}, files={"file": (path.name, content)}
            )
            made.raise_for_status()
            ended = events.wait(made.json()["id"])
            result = api.get(f"/api/v1/submissions/{made.json()['id']}").json()["result"]
            if index:
                latencies.append(ended - started)
                own.append(result["wall_s"])
                warm += bool(result["details"].get("warm"))
        rows[label] = {"latency": latencies, "own": own, "warm": warm}
    return rows


async def page_load(url: str, users: list[dict[str, str]], seconds: float) -> list[float]:
    cookies = []
    for user in users:
        client = browser(url, user["name"], user["password"])
        cookies.append(dict(client.cookies))
        client.close()
    times: list[float] = []
    stop = time.perf_counter() + seconds

    async def client_loop(jar: dict[str, str]) -> None:
        async with httpx.AsyncClient(
            base_url=url, cookies=jar, headers={"Accept": "text/html"}
        ) as client:
            while time.perf_counter() < stop:
                for path in ("/", "/submissions"):
                    started = time.perf_counter()
                    response = await client.get(path)
                    response.raise_for_status()
                    times.append(time.perf_counter() - started)

    await asyncio.gather(*(client_loop(jar) for jar in cookies))
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--sandbox", default="bwrap")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between uploads")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder:
        data = Path(folder) / "data"
        env = {**os.environ, "JUDGE_BANK": str(ROOT), "JUDGE_SECRET": "bench-service-secret"}
        process, url = start(data, args.sandbox, env)
        try:
            latency = verdict_latency(url, add_user(data, "bench", env), args.n, args.gap)
            users = [add_user(data, f"client{i}", env) for i in range(args.clients)]
            pages = asyncio.run(page_load(url, users, args.seconds))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    rows = []
    for label, found in latency.items():
        for what, values in (
            ("upload -> verdict event", found["latency"]),
            ("own run (wall_s)", found["own"]),
        ):
            rows.append(
                {
                    "row": f"{label}: {what}",
                    "n": len(values),
                    "median_s": statistics.median(values),
                    "min_s": min(values),
                    "max_s": max(values),
                    "p95_s": p95(values),
                    "warm": found["warm"] if what.startswith("upload") else None,
                }
            )
    rows.append(
        {
            "row": f"pages, {args.clients} clients, {args.seconds:.0f} s",
            "n": len(pages),
            "median_s": statistics.median(pages),
            "min_s": min(pages),
            "max_s": max(pages),
            "p95_s": p95(pages),
            "warm": None,
        }
    )
    if args.json:
        print(json.dumps(rows))
        return
    table = Table(
        "row",
        "n",
        "median s",
        "min s",
        "max s",
        "p95 s",
        "warm runs",
        title=f"judge serve --workers 2, {args.sandbox} with its warm pool",
    )
    for row in rows:
        table.add_row(
            row["row"],
            str(row["n"]),
            f"{row['median_s']:.3f}",
            f"{row['min_s']:.3f}",
            f"{row['max_s']:.3f}",
            f"{row['p95_s']:.3f}",
            "" if row["warm"] is None else f"{row['warm']}/{row['n']}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
