"""The live service on a real PostgreSQL server: `judge serve` and `judge user add` take the
database from JUDGE_DATABASE_URL, migrate it, and judge submissions through the same
queue as on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.service.live import SOLUTION, STARTER, start_service, stop_service
from tests.service.test_api import upload, wait_judged


def test_the_service_judges_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    service = start_service(tmp_path, workers=2, database_url=postgres_url)
    try:
        alice = service.add_user("alice")  # `judge user add` through JUDGE_DATABASE_URL
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            ids = [
                upload(client, name, path.read_bytes()).json()["id"]
                for name, path in (("starter.py", STARTER), ("solution.py", SOLUTION))
                for _ in range(3)
            ]
            verdicts = [wait_judged(client, i)["result"]["verdict"] for i in ids]
        assert verdicts == ["WA"] * 3 + ["AC"] * 3
        assert not (service.data / "judge.db").exists()  # nothing went to SQLite
        scraped = httpx.get(f"{service.url}/metrics")
        assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(scraped.text)
            for sample in family.samples
        }
        assert samples[("judge_runs", (("state", "done"),))] == 6
        assert samples[("judge_queue_depth", ())] == 0
        assert samples[("judge_queue_oldest_seconds", ())] == 0
        assert samples[("judge_verdict_latency_seconds_count", ())] == 6
        assert samples[("judge_verdict_latency_seconds_bucket", (("le", "+Inf"),))] == 6
        ages = [
            v for (name, _), v in samples.items() if name == "judge_worker_heartbeat_age_seconds"
        ]
        assert len(ages) == 2 and all(0 <= age < 30 for age in ages)
    finally:
        output = stop_service(service)
    assert "Traceback" not in output, output


def test_worker_logs_are_json_lines_with_the_run_id(tmp_path: Path) -> None:
    import json

    service = start_service(tmp_path, workers=1)
    try:
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            made = upload(client, "solution.py", SOLUTION.read_bytes()).json()
            judged = wait_judged(client, made["id"])
    finally:
        output = stop_service(service)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    about_run = [line for line in lines if line["run"] is not None]
    assert about_run, output
    assert judged["result"]["verdict"] == "AC"
    [run_id] = {line["run"] for line in about_run}  # one submission, one run
    messages = [line["msg"] for line in about_run if line["run"] == run_id]
    assert messages[0].startswith(f"judging run {run_id} (try 1)")
    assert messages[-1] == f"run {run_id}: AC"
    assert all({"ts", "level", "process", "logger"} <= set(line) for line in lines)


def test_several_web_processes_answer_on_one_port(postgres_url: str, tmp_path: Path) -> None:
    service = start_service(tmp_path, workers=1, database_url=postgres_url, web_processes=3)
    try:
        children = [
            int(pid)
            for pid in Path(f"/proc/{service.process.pid}/task/{service.process.pid}/children")
            .read_text()
            .split()
        ]
        web = [
            pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(web) >= 3 + 1  # three web processes and the judging worker
        alice = service.add_user("alice")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {alice['token']}"}
        ) as client:
            ids = [upload(client, "s.py", SOLUTION.read_bytes()).json()["id"] for _ in range(6)]
            assert [wait_judged(client, i)["result"]["verdict"] for i in ids] == ["AC"] * 6
            assert all(client.get("/api/v1/submissions").status_code == 200 for _ in range(20))
    finally:
        output = stop_service(service)
    assert "Traceback" not in output, output


def test_a_round_quota_holds_under_a_race_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """Writers take one lock on PostgreSQL too (judge.service.db.writing): 8 files sent at
    once against a limit of 2 store exactly 2."""
    import threading

    from tests.service.test_rounds import ROUND

    service = start_service(tmp_path, workers=1, database_url=postgres_url)
    try:
        boss = service.client(service.add_user("boss", organiser=True)["token"])
        assert boss.post("/api/v1/rounds", json={"source": ROUND}).status_code == 201
        assert boss.post("/api/v1/rounds/race-round/start").status_code == 200
        token = service.add_user("ann")["token"]
        codes: list[int] = []
        start = threading.Barrier(8)

        def send(index: int) -> None:
            with service.client(token) as client:
                start.wait()
                codes.append(
                    client.post(
                        "/api/v1/submissions",
                        data={"problem": "add-arrays", "round": "race-round"},
                        files={"file": ("s.py", SOLUTION.read_bytes())},
                        headers={"Idempotency-Key": f"k{index}"},
                    ).status_code
                )

        threads = [threading.Thread(target=send, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [201] * 2 + [429] * 6, codes
        boss.close()
    finally:
        stop_service(service)
