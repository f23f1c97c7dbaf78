"""The service end to end: `judge serve` on 127.0.0.1 with a real SQLite file, real worker
processes and the process sandbox on the fixture bank; the CLI contract, bad uploads,
idempotency, who sees what, and workers killed or stopped mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import ISOLATING_PARAMS, get_backend
from tests.service.live import (
    JUDGE,
    NOTEBOOK_WITH_MAGIC,
    SOLUTION,
    STARTER,
    Service,
    gone,
    start_service,
    start_workers,
    stop_service,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    started = start_service(tmp_path_factory.mktemp("api"))
    yield started
    stop_service(started)


@pytest.fixture(scope="module")
def alice(service: Service) -> dict[str, str]:
    return service.add_user("alice")


def wait_judged(client: httpx.Client, submission_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(f"/api/v1/submissions/{submission_id}").json()
        if found["state"] in ("done", "error"):
            return found
        time.sleep(0.1)
    raise AssertionError(f"submission {submission_id} was not judged: {found}")


def upload(
    client: httpx.Client,
    name: str,
    content: bytes,
    key: str | None = None,
    problem: str = "add-arrays",
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/api/v1/submissions",
        data={"problem": problem},
        files={"file": (name, content)},
        headers=headers,
    )


def test_submit_wait_json_prints_the_result_judge_run_prints(
    service: Service, alice: dict[str, str]
) -> None:
    def cli(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [JUDGE, *args], env=service.env, capture_output=True, text=True, check=True
        )
        found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return found

    submitted = cli(
        "submit",
        "add-arrays",
        str(STARTER),
        "--server",
        service.url,
        "--token",
        alice["token"],
        "--wait",
        "--json",
    )
    local = cli("run", "add-arrays", str(STARTER), "--sandbox", "process", "--json")
    assert submitted["verdict"] == local["verdict"] == "WA"
    assert submitted["score"] == local["score"]
    assert set(submitted) == set(local) - {"sandbox_reason"}
    accepted = cli(
        "submit",
        "add-arrays",
        str(SOLUTION),
        "--server",
        service.url,
        "--token",
        alice["token"],
        "--wait",
        "--json",
    )
    assert accepted["verdict"] == "AC" and accepted["score"] == accepted["max_score"]


@pytest.mark.parametrize(
    ("name", "content", "problem", "status", "says"),
    [
        ("a.py", b"def add(a, b): pass\n", "no-such-problem", 404, "no problem"),
        ("a.txt", b"def add(a, b): pass\n", "add-arrays", 415, "submit a .py or .ipynb file"),
        ("a.py", b"", "add-arrays", 422, "empty"),
        ("a.py", b"\x00\x01binary", "add-arrays", 422, "NUL"),
        ("a.py", b"\xff\xfe not utf-8", "add-arrays", 422, "UTF-8"),
        ("a.py", b"x" * (16 * 1024 * 1024 + 1), "add-arrays", 413, "byte cap"),
        ("a.py", b"x" * (24 * 1024 * 1024), "add-arrays", 413, "byte cap"),
        (
            "a.ipynb",
            NOTEBOOK_WITH_MAGIC,
            "add-arrays",
            422,
            "IPython magic",
        ),
    ],
    ids=[
        "unknown-problem",
        "txt",
        "empty",
        "nul",
        "not-utf8",
        "oversized",
        "far-oversized",
        "notebook-magic",
    ],
)
def test_a_bad_upload_gets_a_clear_4xx_and_stores_nothing(
    service: Service,
    alice: dict[str, str],
    name: str,
    content: bytes,
    problem: str,
    status: int,
    says: str,
) -> None:
    with service.client(alice["token"]) as client:
        before = len(client.get("/api/v1/submissions").json())
        response = upload(client, name, content, problem=problem)
        assert response.status_code == status, response.text
        assert says in response.json()["error"]
        assert len(client.get("/api/v1/submissions").json()) == before


def test_requests_without_a_valid_token_or_fields_get_a_json_4xx(service: Service) -> None:
    assert httpx.get(f"{service.url}/api/v1/submissions").status_code == 401
    with service.client("not-a-token") as client:
        response = client.get("/api/v1/submissions")
        assert response.status_code == 401 and "token" in response.json()["error"]
    with service.client(service.add_user("carol")["token"]) as client:
        response = client.post("/api/v1/submissions", data={"problem": "add-arrays"})
        assert response.status_code == 422 and "file" in response.json()["error"]


def test_one_idempotency_key_makes_one_submission_even_sent_at_once(
    service: Service, alice: dict[str, str]
) -> None:
    codes: list[int] = []
    ids: list[int] = []

    def send() -> None:
        with service.client(alice["token"]) as client:
            response = upload(client, "solution.py", SOLUTION.read_bytes(), key="double-click")
            codes.append(response.status_code)
            ids.append(response.json()["id"])

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and sorted(codes) == [200] * 5 + [201]
    assert service.db("select count(*) from submission where idempotency_key='double-click'") == [
        (1,)
    ]


def test_a_contestant_sees_only_their_own_submissions_an_organiser_sees_all(
    service: Service, alice: dict[str, str]
) -> None:
    bob = service.add_user("bob")
    boss = service.add_user("boss", organiser=True)
    with service.client(alice["token"]) as client:
        mine = upload(client, "solution.py", SOLUTION.read_bytes()).json()["id"]
    with service.client(bob["token"]) as client:
        assert client.get(f"/api/v1/submissions/{mine}").status_code == 404
        assert all(s["id"] != mine for s in client.get("/api/v1/submissions").json())
    with service.client(boss["token"]) as client:
        assert client.get(f"/api/v1/submissions/{mine}").json()["id"] == mine


SLOW_SOLUTION = (
    b"import time\ntime.sleep(4)\n\ndef add(a, b):\n    return [x + y for x, y in zip(a, b)]\n"
)


def running_worker_pid(service: Service, submission_id: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = service.db(
            "select w.pid from run r join worker w on w.run_id = r.id "
            "where r.submission_id = ? and r.state = 'running' and w.state = 'judging'",
            submission_id,
        )
        if rows:
            pid: int = rows[0][0]
            return pid
        time.sleep(0.05)
    raise AssertionError("the run never started")


def done_events(service: Service, submission_id: int) -> int:
    rows = service.db(
        "select count(*) from event where submission_id = ? and json_extract(payload, '$.state') "
        "= 'done'",
        submission_id,
    )
    count: int = rows[0][0]
    return count


@pytest.mark.slow
def test_a_worker_killed_mid_run_has_its_run_judged_once_by_another(
    service: Service, alice: dict[str, str]
) -> None:
    with service.client(alice["token"]) as client:
        made = upload(client, "slow.py", SLOW_SOLUTION).json()
        os.kill(running_worker_pid(service, made["id"]), signal.SIGKILL)
        judged = wait_judged(client, made["id"])
    assert judged["result"]["verdict"] == "AC" and judged["tries"] == 2
    assert done_events(service, made["id"]) == 1


@pytest.mark.slow
def test_a_worker_stopped_past_its_lease_changes_nothing_when_it_resumes(
    service: Service, alice: dict[str, str]
) -> None:
    with service.client(alice["token"]) as client:
        made = upload(client, "slow.py", SLOW_SOLUTION).json()
        pid = running_worker_pid(service, made["id"])
        os.kill(pid, signal.SIGSTOP)
        try:
            judged = wait_judged(client, made["id"])
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(6)  # the resumed worker finishes its copy of the run and tries to write
        again = client.get(f"/api/v1/submissions/{made['id']}").json()
    assert judged["tries"] == 2 and again == judged
    assert done_events(service, made["id"]) == 1


@pytest.mark.slow
def test_stopping_the_service_mid_run_loses_nothing_and_a_restart_judges_it(
    tmp_path: Path,
) -> None:
    first = start_service(tmp_path, workers=1)
    user = first.add_user("dora")
    with first.client(user["token"]) as client:
        made = upload(client, "slow.py", SLOW_SOLUTION).json()
    running_worker_pid(first, made["id"])
    stop_service(first)
    assert first.db("select state, tries from run") == [("queued", 0)]
    second = start_service(tmp_path, workers=1)
    try:
        with second.client(user["token"]) as client:
            judged = wait_judged(client, made["id"])
        assert judged["result"]["verdict"] == "AC"
    finally:
        stop_service(second)


@pytest.mark.slow
def test_the_web_process_restarted_mid_run_loses_nothing_while_the_workers_go_on(
    tmp_path: Path,
) -> None:
    web = start_service(tmp_path, workers=0)
    workers = start_workers(web)
    try:
        user = web.add_user("erin")
        with web.client(user["token"]) as client:
            made = upload(client, "slow.py", SLOW_SOLUTION).json()
        pid = running_worker_pid(web, made["id"])
        web.process.kill()  # the web process dies mid-run, without a word
        web.process.communicate(timeout=30)
        again = start_service(tmp_path, workers=0)
        try:
            with again.client(user["token"]) as client:
                judged = wait_judged(client, made["id"])
            assert judged["result"]["verdict"] == "AC"
            assert judged["tries"] == 1  # the worker went on: nothing was requeued
            assert not gone(pid, 0)  # the same worker process judged it
            assert done_events(again, made["id"]) == 1
            login = httpx.get(f"{again.url}/login")
            assert login.status_code == 200 and 'name="password"' in login.text
        finally:
            stop_service(again)
    finally:
        workers.send_signal(signal.SIGTERM)
        workers.communicate(timeout=60)
    assert workers.returncode == 0


@pytest.mark.slow
def test_a_service_killed_outright_leaves_a_sound_database_and_no_worker_behind(
    tmp_path: Path,
) -> None:
    first = start_service(tmp_path, workers=2)
    user = first.add_user("finn")
    with first.client(user["token"]) as client:
        made = [upload(client, f"slow{i}.py", SLOW_SOLUTION).json()["id"] for i in range(4)]
    running = [running_worker_pid(first, made[0]), running_worker_pid(first, made[1])]
    first.process.kill()  # SIGKILL: no handler runs, nothing is given back by the web process
    first.process.communicate(timeout=30)
    assert all(gone(pid, 15) for pid in running), "a worker outlived its service"
    assert first.db("pragma integrity_check") == [("ok",)]
    assert first.db("select count(*) from run where state = 'done'") == [(0,)]
    second = start_service(tmp_path, workers=2)
    try:
        with second.client(user["token"]) as client:
            judged = [wait_judged(client, made_id, timeout=120) for made_id in made]
        assert [j["result"]["verdict"] for j in judged] == ["AC"] * 4
        assert all(done_events(second, made_id) == 1 for made_id in made)
        assert second.db("select count(*) from run") == [(4,)]
    finally:
        stop_service(second)


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ISOLATING_PARAMS)
def test_the_service_judges_bank_files_in_a_real_sandbox_with_its_warm_pool(
    tmp_path: Path, backend: str
) -> None:
    get_backend(backend)  # skip, or fail under CI, when the backend is missing
    live = start_service(tmp_path, workers=2, sandbox=backend, bank=REPO, pool=True)
    try:
        with live.client(live.add_user("rita")["token"]) as client:
            expected = {}
            for slug, label in (("conv-geometry", "starter"), ("missing-zero-grad", "accepted")):
                problem = REPO / "problems" / slug
                path = (
                    problem / "starter.py"
                    if label == "starter"
                    else REPO / "reference" / slug / "accepted" / "solution.py"
                )
                made = upload(client, path.name, path.read_bytes(), problem=slug).json()
                expected[made["id"]] = "WA" if label == "starter" else "AC"
            for submission_id, verdict in expected.items():
                found = wait_judged(client, submission_id, timeout=180)
                assert found["result"]["verdict"] == verdict, found
                assert found["result"]["sandbox"] == backend
    finally:
        stop_service(live)
