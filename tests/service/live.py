"""A live `judge serve` for tests: started on a free 127.0.0.1 port with a real SQLite file,
real worker processes and the process sandbox on the fixture bank; stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

FIXTURE_BANK = Path(__file__).resolve().parents[1] / "fixtures" / "bank"
JUDGE = str(Path(sys.executable).parent / "judge")
STARTER = FIXTURE_BANK / "problems" / "add-arrays" / "starter.py"
SOLUTION = FIXTURE_BANK / "reference" / "add-arrays" / "accepted" / "solution.py"
LEASE_S = 2.0
NOTEBOOK_WITH_MAGIC = (
    Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "with_magic.ipynb"
).read_bytes()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    url: str
    data: Path
    process: subprocess.Popen[str]
    env: dict[str, str]

    def add_user(self, name: str, organiser: bool = False) -> dict[str, str]:
        command = [JUDGE, "user", "add", name, "--data", str(self.data), "--json"]
        done = subprocess.run(
            command + (["--organiser"] if organiser else []),
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        made: dict[str, str] = json.loads(done.stdout)
        return made

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"})

    def db(self, query: str, *args: Any) -> list[Any]:
        """Run an SQL query (with ? placeholders) on the service's SQLite file."""
        assert "JUDGE_DATABASE_URL" not in self.env, "db() reads the SQLite file only"
        with sqlite3.connect(self.data / "judge.db", timeout=30) as connection:
            return connection.execute(query, args).fetchall()


def start_service(
    tmp_path: Path,
    workers: int = 2,
    sandbox: str = "process",
    bank: Path = FIXTURE_BANK,
    pool: bool = False,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    web_processes: int = 1,
) -> Service:
    """`judge serve` on a free port: SQLite in its data folder, or `database_url`."""
    env = {
        **os.environ,
        "JUDGE_BANK": str(bank),
        "JUDGE_LEASE_S": str(LEASE_S),
        "JUDGE_SECRET": "service-tests-secret",
        **({"JUDGE_DATABASE_URL": database_url} if database_url else {}),
        **(extra_env or {}),
    }
    port = free_port()
    data = tmp_path / "service"
    process = subprocess.Popen(
        [
            JUDGE,
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--sandbox",
            sandbox,
            *([] if pool else ["--no-pool"]),
            *(["--web-processes", str(web_processes)] if web_processes > 1 else []),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return Service(url, data, process, env)
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the service did not start: {process.communicate()[0]}")


def stop_service(service: Service) -> str:
    service.process.send_signal(signal.SIGTERM)
    output, _ = service.process.communicate(timeout=60)
    return output


def start_workers(
    service: Service, count: int = 1, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`judge worker` beside a `judge serve --workers 0`: workers in a process of their own
    (with the service's environment, changed by `env`)."""
    return subprocess.Popen(
        [
            JUDGE,
            "worker",
            "--data",
            str(service.data),
            "--workers",
            str(count),
            "--sandbox",
            "process",
            "--no-pool",
        ],
        env={**service.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def gone(pid: int, timeout: float) -> bool:
    """Whether process `pid` ended (or is a zombie) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def browser_login(service: Service, name: str, password: str) -> httpx.Client:
    """A client that logged in through the login form, as a browser does."""
    client = httpx.Client(
        base_url=service.url, headers={"Accept": "text/html", "Origin": service.url}
    )
    token = form_token(client.get("/login").text)
    done = client.post("/login", data={"name": name, "password": password, "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/", done.text
    return client
