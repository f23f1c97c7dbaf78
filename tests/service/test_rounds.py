"""Rounds in the live service: created by an organiser, a window that opens and closes,
a quota that holds under a race, contestants who see only the public part until the
final board is published, a freeze that stops their board, and a rejudge."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.service.live import (
    FIXTURE_BANK,
    SOLUTION,
    STARTER,
    Service,
    browser_login,
    start_service,
    stop_service,
)

ROUND = """name: race-round
title: Race round
duration_minutes: 60
submission_limit: 2
problems:
  - {slug: add-arrays, points: 50}
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    started = start_service(tmp_path_factory.mktemp("rounds"), workers=2)
    yield started
    stop_service(started)


@pytest.fixture(scope="module")
def boss(service: Service) -> Iterator[httpx.Client]:
    with service.client(service.add_user("boss", organiser=True)["token"]) as client:
        yield client


def upload(
    client: httpx.Client, content: bytes, round_name: str, key: str | None = None
) -> httpx.Response:
    return client.post(
        "/api/v1/submissions",
        data={"problem": "add-arrays", "round": round_name},
        files={"file": ("solution.py", content)},
        headers={"Idempotency-Key": key} if key else {},
    )


def judged(client: httpx.Client, submission_id: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = client.get(f"/api/v1/submissions/{submission_id}").json()
        if found["state"] in ("done", "error"):
            return found
        time.sleep(0.1)
    raise AssertionError(found)


def test_a_contestant_cannot_create_or_run_a_round(service: Service) -> None:
    with service.client(service.add_user("pete")["token"]) as client:
        assert client.post("/api/v1/rounds", json={"source": ROUND}).status_code == 403
        assert client.post("/api/v1/rounds/x/start").status_code == 403


def test_a_bad_round_file_says_what_is_wrong(boss: httpx.Client) -> None:
    response = boss.post("/api/v1/rounds", json={"source": "name: bad\ntitle: x\n"})
    assert response.status_code == 422 and "round file" in response.json()["error"]
    escaping = ROUND.replace("race-round", "../../escaped")
    response = boss.post("/api/v1/rounds", json={"source": escaping})
    assert response.status_code == 422 and "must match" in response.json()["error"]
    unknown = ROUND.replace("add-arrays", "no-such-problem").replace("race-round", "bad2")
    response = boss.post("/api/v1/rounds", json={"source": unknown})
    assert response.status_code == 422 and "no-such-problem" in response.json()["error"]


def test_the_window_the_quota_under_a_race_and_what_contestants_see(
    service: Service, boss: httpx.Client
) -> None:
    made = boss.post("/api/v1/rounds", json={"source": ROUND})
    assert made.status_code == 201, made.text
    assert boss.post("/api/v1/rounds", json={"source": ROUND}).status_code == 409
    ann = service.client(service.add_user("ann")["token"])
    early = upload(ann, SOLUTION.read_bytes(), "race-round")
    assert early.status_code == 403 and "not started" in early.json()["error"]
    assert boss.post("/api/v1/rounds/race-round/start").status_code == 200

    codes: list[int] = []
    ids: list[int] = []

    def send(index: int) -> None:
        with service.client(ann.headers["Authorization"].split()[1]) as client:
            response = upload(client, SOLUTION.read_bytes(), "race-round", key=f"k{index}")
            codes.append(response.status_code)
            if response.status_code == 201:
                ids.append(response.json()["id"])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 201, 429], codes  # limit 2: exactly 2 of 3 taken

    seen = judged(ann, ids[0])
    assert seen["result"]["verdict"] == "scored"  # decided on the private part: hidden
    assert "public part" in seen["result"]["message"]
    assert seen["result"]["score"] == seen["result"]["public_score"]
    full = judged(boss, ids[0])
    assert full["result"]["verdict"] == "AC"
    board = ann.get("/api/v1/rounds/race-round/scoreboard").json()
    assert board["private"] is None and board["public"]["rows"][0]["contestant"] == "ann"
    assert boss.get("/api/v1/rounds/race-round/scoreboard").json()["private"] is not None

    early_publish = boss.post("/api/v1/rounds/race-round/publish")
    assert early_publish.status_code == 409
    assert boss.post("/api/v1/rounds/race-round/end").status_code == 200
    late = upload(ann, SOLUTION.read_bytes(), "race-round")
    assert late.status_code == 403 and "ended" in late.json()["error"]
    assert boss.post("/api/v1/rounds/race-round/publish").status_code == 200
    assert judged(ann, ids[0])["result"]["verdict"] == "AC"  # published: all shown
    assert ann.get("/api/v1/rounds/race-round/scoreboard").json()["private"] is not None
    ann.close()


def test_a_frozen_board_stops_changing_for_contestants_but_not_for_the_organiser(
    service: Service, boss: httpx.Client
) -> None:
    source = ROUND.replace("race-round", "frozen-round").replace("limit: 2", "limit: 5")
    assert boss.post("/api/v1/rounds", json={"source": source}).status_code == 201
    assert boss.post("/api/v1/rounds/frozen-round/start").status_code == 200
    cat = service.client(service.add_user("cat")["token"])
    judged(cat, upload(cat, STARTER.read_bytes(), "frozen-round").json()["id"])

    def total(client: httpx.Client) -> float:
        rows = client.get("/api/v1/rounds/frozen-round/scoreboard").json()["public"]["rows"]
        return next(row["total"] for row in rows if row["contestant"] == "cat")

    assert total(cat) == 0.0
    assert boss.post("/api/v1/rounds/frozen-round/freeze").status_code == 200
    judged(cat, upload(cat, SOLUTION.read_bytes(), "frozen-round").json()["id"])
    assert total(cat) == 0.0  # frozen: the later file is not on the contestant's board
    assert total(boss) == 50.0
    assert boss.post("/api/v1/rounds/frozen-round/thaw").status_code == 200
    assert total(cat) == 50.0
    cat.close()
    # While a round runs its problems take no practice files: end it for the next tests.
    assert boss.post("/api/v1/rounds/frozen-round/end").status_code == 200


def test_a_rejudge_supersedes_the_old_run_and_judges_again(
    service: Service, boss: httpx.Client
) -> None:
    dan = service.client(service.add_user("dan")["token"])
    made = dan.post(
        "/api/v1/submissions",
        data={"problem": "add-arrays"},
        files={"file": ("solution.py", SOLUTION.read_bytes())},
    ).json()
    first = judged(dan, made["id"])
    again = boss.post(f"/api/v1/submissions/{made['id']}/rejudge")
    assert again.status_code == 200 and again.json()["state"] == "queued"
    second = judged(dan, made["id"])
    assert second["result"]["verdict"] == first["result"]["verdict"] == "AC"
    runs = service.db("select state from run where submission_id = ? order by id", made["id"])
    assert runs == [("superseded",), ("done",)]
    assert dan.post(f"/api/v1/submissions/{made['id']}/rejudge").status_code == 403
    dan.close()


def test_a_rejudge_of_a_problem_shows_the_ranks_that_changed_once_judged(
    service: Service, boss: httpx.Client, tmp_path: Path
) -> None:
    # A file that answers right only once a mark exists on the host (the process sandbox
    # lets it look): the test makes the mark between the judging and the rejudge, as a
    # setter's fix to a problem would change a verdict for real.
    mark = tmp_path / "fixed"
    flaky = (
        f"import os\nMARK = {str(mark)!r}\n\n"
        "def add(a, b):\n"
        "    if not os.path.exists(MARK):\n"
        "        return [0 for _ in a]\n"
        "    return [x + y for x, y in zip(a, b)]\n"
    ).encode()
    source = ROUND.replace("race-round", "rejudge-round").replace("limit: 2", "limit: 5")
    assert boss.post("/api/v1/rounds", json={"source": source}).status_code == 201
    assert boss.post("/api/v1/rounds/rejudge-round/start").status_code == 200
    with (
        service.client(service.add_user("gil")["token"]) as gil,
        service.client(service.add_user("hal")["token"]) as hal,
    ):
        first = judged(boss, upload(gil, flaky, "rejudge-round").json()["id"])
        judged(hal, upload(hal, SOLUTION.read_bytes(), "rejudge-round").json()["id"])
    assert first["result"]["verdict"] == "WA"
    ranks = {
        row["contestant"]: row["rank"]
        for row in boss.get("/api/v1/rounds/rejudge-round/scoreboard").json()["private"]["rows"]
    }
    assert ranks["hal"] == 1 and ranks["gil"] == 2
    mark.touch()

    wrong = boss.post("/api/v1/rounds/rejudge-round/rejudge", json={"problem": "threshold"})
    assert wrong.status_code == 404 and "not a problem of" in wrong.json()["error"]
    again = boss.post("/api/v1/rounds/rejudge-round/rejudge", json={"problem": "add-arrays"})
    assert again.status_code == 200 and again.json() == {"queued": 2}
    assert judged(boss, first["id"])["result"]["verdict"] == "AC"
    deadline = time.monotonic() + 60
    while (report := boss.get("/api/v1/rounds/rejudge-round/rejudges").json()[0])["pending"]:
        assert time.monotonic() < deadline, report
        time.sleep(0.1)
    assert report["what"] == "add-arrays" and report["runs"] == 2
    for board in ("public", "private"):  # equal totals: the earlier file ranks first
        moved = report["moved"][board]
        assert {"contestant": "gil", "before": 2, "after": 1} in moved, report
        assert {"contestant": "hal", "before": 1, "after": 2} in moved, report

    password = service.add_user("overseer", organiser=True)["password"]
    with closing(browser_login(service, "overseer", password)) as page:
        admin = page.get("/admin").text
    assert "Rejudge of add-arrays (2 file(s)" in admin and "gil 2 &rarr; 1" in admin
    assert boss.post("/api/v1/rounds/rejudge-round/end").status_code == 200


def test_bank_rounds_can_be_created_by_name_and_the_queue_page_shows_the_workers(
    boss: httpx.Client,
) -> None:
    assert (FIXTURE_BANK / "rounds" / "fixture-round.yaml").is_file()
    made = boss.post("/api/v1/rounds", json={"bank_round": "fixture-round"})
    assert made.status_code == 201 and [p["slug"] for p in made.json()["problems"]] == [
        "threshold",
        "add-arrays",
    ]
    queue = boss.get("/api/v1/queue").json()
    assert len(queue["workers"]) == 2 and {"queued", "running", "oldest_wait_s"} <= set(queue)
