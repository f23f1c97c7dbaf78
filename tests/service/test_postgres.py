"""The live service on a real PostgreSQL server: `judge serve` and `judge user add` take the
database from JUDGE_DATABASE_URL, migrate it, and judge submissions through the same
queue as on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx

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
    finally:
        output = stop_service(service)
    assert "Traceback" not in output, output
