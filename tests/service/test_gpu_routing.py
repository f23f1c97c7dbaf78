"""Queues by resource: a problem whose spec asks for a GPU (`limits.accelerator: gpu`) is
queued for workers that offer one. This machine has no GPU, so what is tested is the
routing and the refusals: a CPU-only worker never takes a GPU run (polling or Celery),
the run waits on the broker's `gpu` queue, a worker cannot offer a GPU the machine lacks,
and `judge run` of such a problem here says why it cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from judge.sandbox.base import gpu_devices
from judge.service import queue
from judge.service.models import Run, RunState
from judge.spec import load_spec
from tests.service.conftest import queue_runs
from tests.service.live import FIXTURE_BANK, JUDGE, SOLUTION, start_service, stop_service
from tests.service.servers import RedisServer
from tests.service.test_api import upload
from tests.service.test_queue import Sessions

pytestmark = pytest.mark.skipif(bool(gpu_devices()), reason="this machine has a GPU")


def gpu_bank(tmp_path: Path) -> Path:
    """The fixture bank with add-arrays asking for a GPU."""
    bank = tmp_path / "gpu-bank"
    shutil.copytree(FIXTURE_BANK, bank)
    spec = bank / "problems" / "add-arrays" / "spec.yaml"
    spec.write_text(
        spec.read_text().replace("  memory_mb: 256\n", "  memory_mb: 256\n  accelerator: gpu\n")
    )
    assert load_spec(spec).resource == "gpu"
    return bank


def test_a_cpu_worker_never_takes_a_gpu_run(sessions: Sessions) -> None:
    cpu_run, gpu_run = queue_runs(sessions, 2)
    with sessions() as session, session.begin():
        session.get_one(Run, gpu_run).resource = "gpu"
    assert queue.claim_run(sessions, gpu_run, "cpu-worker", 60) is None  # a misrouted message
    held = queue.claim(sessions, "cpu-worker", 60)
    assert held is not None and held.run_id == cpu_run
    assert queue.claim(sessions, "cpu-worker", 60) is None  # only the GPU run is left
    taken = queue.claim(sessions, "gpu-worker", 60, resources=("gpu", "cpu"))
    assert taken is not None and taken.run_id == gpu_run


def test_a_gpu_problem_waits_on_the_gpu_queue_while_cpu_workers_judge(
    postgres_url: str, redis: RedisServer, tmp_path: Path
) -> None:
    from judge.service.db import make_engine, session_factory

    bank = gpu_bank(tmp_path)
    env = {"JUDGE_DISPATCH": "celery", "JUDGE_BROKER_URL": redis.url}
    service = start_service(
        tmp_path, workers=1, bank=bank, database_url=postgres_url, extra_env=env
    )
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    try:
        alice = service.add_user("alice")
        with service.client(alice["token"]) as client:
            made = upload(client, "solution.py", SOLUTION.read_bytes()).json()
            time.sleep(3)  # a CPU worker had time to take it, were it routed wrong
            assert client.get(f"/api/v1/submissions/{made['id']}").json()["state"] == "queued"
        assert redis.command("LLEN", "gpu") == "1" and redis.command("LLEN", "cpu") == "0"
        with sessions() as session:
            run = session.scalars(select(Run)).one()
        assert run.state == RunState.QUEUED and run.resource == "gpu" and run.tries == 0
    finally:
        stop_service(service)
        engine.dispose()


def test_a_worker_cannot_offer_a_gpu_this_machine_lacks(tmp_path: Path) -> None:
    done = subprocess.run(
        [JUDGE, "worker", "--data", str(tmp_path / "data"), "--workers", "1",
         "--resources", "gpu"],
        env={**os.environ, "JUDGE_BANK": str(FIXTURE_BANK), "JUDGE_SECRET": "gpu-tests"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "this machine has none (no /dev/nvidia* devices)" in done.stdout + done.stderr


def test_judge_run_of_a_gpu_problem_here_says_it_needs_a_gpu(tmp_path: Path) -> None:
    bank = gpu_bank(tmp_path)
    done = subprocess.run(
        [JUDGE, "run", "add-arrays", str(SOLUTION), "--sandbox", "process"],
        env={**os.environ, "JUDGE_BANK": str(bank), "JUDGE_SECRET": "gpu-tests"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    shown = done.stdout + done.stderr
    assert "IE" in shown and "this problem needs a GPU, and the process sandbox" in shown
