"""A worker judges only with the web's version of a problem: a run records the problem's
digest when it is queued, and a worker whose bank holds another version gives the run
back instead of judging it against other data (after 3 tries: "judging failed")."""

from __future__ import annotations

import shutil
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
            judged = wait_judged(client, made["id"], timeout=60)
        assert judged["state"] == "error" and judged["tries"] == 3
        assert judged["result"] is None
        [error] = service.db("select error from run where submission_id = ?", made["id"])[0:1]
        assert "holds another version of add-arrays" in error[0]
    finally:
        workers.terminate()
        workers.communicate(timeout=60)
        stop_service(service)
    right = start_service(tmp_path / "again", workers=1)
    try:  # the web's own bank: judged
        bob = right.add_user("bob")
        with right.client(bob["token"]) as client:
            made = upload(client, "solution.py", SOLUTION.read_bytes()).json()
            assert wait_judged(client, made["id"])["result"]["verdict"] == "AC"
    finally:
        stop_service(right)
