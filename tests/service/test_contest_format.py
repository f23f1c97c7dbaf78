"""The contest format in the live service: a round with a quiz drawn per contestant, a
problem in parts and a hint that costs points; answers handed in from the page's form
and as a file; a contestant sees only right or wrong per item until the final board."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from judge.bank import Bank
from judge.data import Secret
from judge.kinds.quiz import Quiz
from tests.service.live import (
    FIXTURE_BANK,
    Service,
    browser_login,
    form_token,
    start_service,
    stop_service,
)
from tests.test_parts import RECIPE, SOLUTION, SPEC

ROOT = Path(__file__).resolve().parents[2]
QUIZ = "drill-6-cnns"
ROUND = f"""name: paper-round
title: Paper round
duration_minutes: 60
submission_limit: 3
hints: {{allowed: true, cost: 2}}
problems:
  - {{slug: {QUIZ}, points: 35}}
  - {{slug: vector-ops, points: 20}}
"""


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    root = tmp_path_factory.mktemp("paper-bank")
    shutil.copytree(FIXTURE_BANK, root, dirs_exist_ok=True)
    for folder in ("problems", "reference"):
        shutil.copytree(ROOT / folder / QUIZ, root / folder / QUIZ)
    (root / "problems" / "vector-ops").mkdir()
    (root / "problems" / "vector-ops" / "spec.yaml").write_text(SPEC)
    (root / "problems" / "vector-ops" / "statement.md").write_text("# Vector ops\n")
    (root / "problems" / "vector-ops" / "starter.py").write_text(SOLUTION)
    (root / "datasets" / "vector_ops.py").write_text(RECIPE)
    (root / "reference" / "vector-ops" / "accepted").mkdir(parents=True)
    (root / "reference" / "vector-ops" / "accepted" / "solution.py").write_text(SOLUTION)
    return Bank(root)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, bank: Bank) -> Iterator[Service]:
    started = start_service(tmp_path_factory.mktemp("paper"), workers=1, bank=bank.root)
    yield started
    stop_service(started)


def right_answers(bank: Bank, secret: str, contestant: str) -> dict[str, Any]:
    memo: dict[str, Any] = {}
    truth = Quiz()._truth(
        bank.problem(QUIZ),
        Secret(secret.encode(), "t"),
        contestant,
        lambda key, compute: memo.setdefault(key, compute()),
    )
    answers: dict[str, Any] = truth["answers"]
    return answers


def judged(client: httpx.Client, submission_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(f"/api/v1/submissions/{submission_id}").json()
        if found["state"] in ("done", "error"):
            return found
        time.sleep(0.1)
    raise AssertionError(found)


def as_field(value: Any) -> str:
    return (
        ", ".join(value)
        if isinstance(value, list) and value and isinstance(value[0], str)
        else str(value)
    )


def test_a_round_with_a_quiz_parts_and_a_hint(service: Service, bank: Bank) -> None:
    with ExitStack() as clients:
        play_the_round(service, bank, clients)


def play_the_round(service: Service, bank: Bank, clients: ExitStack) -> None:
    boss = clients.enter_context(service.client(service.add_user("boss", organiser=True)["token"]))
    assert boss.post("/api/v1/rounds", json={"source": ROUND}).status_code == 201
    assert boss.post("/api/v1/rounds/paper-round/start").status_code == 200
    made = service.add_user("quin")
    quin = browser_login(service, "quin", made["password"])
    clients.callback(quin.close)
    quin_api = clients.enter_context(service.client(made["token"]))
    secret = service.env["JUDGE_SECRET"]

    # The page shows quin's own numbers and a field per item.
    page = quin.get(f"/problems/{QUIZ}").text
    mine = Quiz().statement(bank.problem(QUIZ), bank, Secret(secret.encode(), "t"), "quin")
    first_prompt = mine.split("### 1.")[1].split("\n\n")[1]
    assert re.sub(r"`", "", first_prompt.split("(N, C, H, W)")[0]).strip()[:30] in page
    assert page.count('name="item:') == 7 and 'name="round" value="paper-round"' in page

    # A hint revealed during the round costs 2 of the quiz's points.
    csrf = form_token(page)
    assert quin.post(f"/problems/{QUIZ}/hint", data={"csrf": csrf}).status_code == 303

    # The form, with one item wrong: handed in to the round.
    answers = right_answers(bank, secret, "quin")
    fields = {f"item:{item}": as_field(value) for item, value in answers.items()}
    fields["item:conv-param-count"] = "1"
    fields.update({"csrf": csrf, "key": "quiz-1", "round": "paper-round"})
    sent = quin.post(f"/problems/{QUIZ}/answers", data=fields)
    assert sent.status_code == 303, sent.text
    token = service.add_user("quin-api")["token"]  # the same answers as a file, over the API
    api = clients.enter_context(service.client(token))
    refused = api.post(
        "/api/v1/submissions",
        data={"problem": QUIZ, "round": "paper-round"},
        files={"file": ("answers.py", b"x = 1\n")},
    )
    assert refused.status_code == 415 and ".yaml or .yml or .json" in refused.json()["error"]

    (submission,) = quin_api.get("/api/v1/submissions").json()
    # During the round quin sees right or wrong per item, no explanation, no answer.
    seen = judged(quin_api, submission["id"])["result"]
    assert seen["verdict"] == "scored" and seen["score"] == 30.0
    by_id = {part["id"]: part for part in seen["parts"]}
    assert by_id["conv-param-count"] == {
        "id": "conv-param-count",
        "title": "item 2",
        "points": 0.0,
        "max_points": 5.0,
        "message": "wrong",
    }
    assert all("explanation" not in part for part in seen["parts"])

    # The problem in parts, handed in as a file with one function wrong.
    wrong_add = SOLUTION.replace("return [x + y", "return [x - y")
    done = quin_api.post(
        "/api/v1/submissions",
        data={"problem": "vector-ops", "round": "paper-round"},
        files={"file": ("ops.py", wrong_add.encode())},
    ).json()
    parts = judged(quin_api, done["id"])["result"]["parts"]
    assert [(p["id"], p["points"]) for p in parts] == [
        ("add", 0.0),
        ("scale", 10.0),
        ("solve", 5.0),
    ]

    board = boss.get("/api/v1/rounds/paper-round/scoreboard").json()["private"]
    (row,) = [r for r in board["rows"] if r["contestant"] == "quin"]
    quiz_cell = row["cells"][QUIZ]
    assert quiz_cell["hints"] == 1 and quiz_cell["points"] == 30.0 - 2.0
    assert quiz_cell["parts"]["conv-param-count"] == 0.0
    assert row["cells"]["vector-ops"]["points"] == 15.0
    assert row["total"] == 28.0 + 15.0

    # After the final board, the whole result: the setter's explanations too.
    assert boss.post("/api/v1/rounds/paper-round/end").status_code == 200
    assert boss.post("/api/v1/rounds/paper-round/publish").status_code == 200
    final = judged(quin_api, submission["id"])["result"]
    assert final["verdict"] == "WA" and all(part["explanation"] for part in final["parts"])
