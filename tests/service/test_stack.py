"""`make stack` (scripts/stack.sh): PostgreSQL, Redis, the API and Celery workers started
on this machine in the background, the contract's files written, a submission judged,
and `make stack-down` leaving nothing running."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.service.live import FIXTURE_BANK, JUDGE, SOLUTION
from tests.service.servers import free_port, missing, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "stack.sh"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


@pytest.mark.slow
def test_make_stack_starts_everything_and_stack_down_stops_it() -> None:
    if postgres_bin() is None:
        missing("PostgreSQL is not installed")
    stack = Path(tempfile.mkdtemp(prefix="stack-"))  # in the session's 0755 temp root:
    stack.chmod(0o755)  # the postgres user must reach its data folder
    port = free_port()
    env = {
        **os.environ,
        "STACK_DIR": str(stack),
        "STACK_PORT": str(port),
        "STACK_WORKERS": "2",
        "STACK_SANDBOX": "process",
        "JUDGE_BANK": str(FIXTURE_BANK),
    }
    up = subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True, text=True)
    pids: dict[str, int] = {}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        exported = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (stack / "env").read_text().splitlines()
        )
        assert exported["STACK_URL"] == f"http://127.0.0.1:{port}"
        assert exported["JUDGE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert exported["JUDGE_BROKER_URL"].startswith("redis://127.0.0.1:")
        pids = {p.stem: int(p.read_text()) for p in (stack / "pids").glob("*.pid")}
        assert set(pids) == {"postgres", "redis", "api", "workers", "worker-1", "worker-2"}
        assert all(alive(pid) for pid in pids.values()), pids
        assert httpx.get(f"{exported['STACK_URL']}/healthz").status_code == 200
        made = subprocess.run(
            [JUDGE, "user", "add", "zed", "--data", str(stack / "data"), "--json"],
            env={**env, **exported},
            capture_output=True,
            text=True,
            check=True,
        )
        token = __import__("json").loads(made.stdout)["token"]
        judged = subprocess.run(
            [JUDGE, "submit", "add-arrays", str(SOLUTION), "--server", exported["STACK_URL"],
             "--token", token, "--wait", "--json"],
            env={**env, **exported}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert judged.returncode == 0, judged.stdout + judged.stderr
        assert '"verdict": "AC"' in judged.stdout
    finally:
        down = subprocess.run(
            ["bash", str(SCRIPT), "down"], env=env, capture_output=True, text=True
        )
    assert down.returncode == 0, down.stdout + down.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert not list((stack / "pids").glob("*.pid"))
