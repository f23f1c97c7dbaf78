"""A worker judges only with the web's version of a problem: a run records the problem's
digest when it is queued, and a worker whose bank holds another version gives the run
back, untried, instead of judging it against other data; a worker with the web's
version then judges it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.service.live import FIXTURE_BANK, SOLUTION, start_service, start_workers, stop_service
from tests.service.test_api import upload, wait_judged


def test_a_worker_with_another_version_of_the_problem_refuses_its_run(tmp_path: Path) -> None:
    other = tmp_path / "other-bank"
    shutil.copytree(FIXTURE_BANK, other)
    statement = other / "problems" / "add-arrays" / "statement.md"
    statement.write_text(statement.read_text() + "\nA later edit.\n")
    service = start_service(tmp_path, workers=0)
    workers = start_workers(service, 1, env={"JUDGE_BANK": str(other)})
    try:
        alice = service.add_user("alice")
        with service.client(alice["token"]) as client:
            made = upload(client, "solution.py", SOLUTION.read_bytes()).json()
            deadline = time.monotonic() + 30
            while not service.db("select error from run where error is not null"):
                assert time.monotonic() < deadline, "the stale worker never refused the run"
                time.sleep(0.2)
            time.sleep(1)
            found = client.get(f"/api/v1/submissions/{made['id']}").json()
            assert found["state"] == "queued" and found["tries"] == 0  # given back, untried
            [[error]] = service.db("select error from run where submission_id = ?", made["id"])
            assert "holds another version of add-arrays" in error
            current = start_workers(service, 1)  # the web's own bank
            try:
                judged = wait_judged(client, made["id"], timeout=60)
            finally:
                current.terminate()
                current.communicate(timeout=60)
        assert judged["result"]["verdict"] == "AC" and judged["tries"] == 1
    finally:
        workers.terminate()
        workers.communicate(timeout=60)
        stop_service(service)
