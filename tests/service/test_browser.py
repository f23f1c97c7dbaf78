"""A contestant in headless Chromium against a live `judge serve` on 127.0.0.1: log in,
open a problem, upload the starter and watch WA arrive without a reload, upload the fix
and watch AC arrive; the screenshot shows the verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_context
from tests.service.live import SOLUTION, STARTER, Service, start_service, stop_service

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    started = start_service(tmp_path, workers=2)
    yield started
    stop_service(started)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with chromium_context(tmp_path / "profile", offline=False) as context:
        yield context.new_page()


def verdict_cell(page: Any, row: int) -> Any:
    return page.locator("#submissions tbody tr").nth(row).locator("td.verdict")


def test_a_contestant_sees_wa_then_ac_arrive_live_in_chromium(
    service: Service, page: Any, tmp_path: Path
) -> None:
    user = service.add_user("lena")
    page.goto(f"{service.url}/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "lena")
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{service.url}/")
    assert "Solved 0 of 3 problems" in page.inner_text("main")

    page.click('a[href="/problems/add-arrays"]')
    page.wait_for_url(f"{service.url}/problems/add-arrays")
    page.set_input_files("input[type=file]", str(STARTER))
    page.click(".submit button[type=submit]")
    page.wait_for_url(f"{service.url}/submissions")
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    verdict_cell(page, 0).filter(has_text="WA").wait_for(timeout=60_000)
    assert page.evaluate("window.__same_page === true")
    assert "cases" in page.locator("#submissions tbody tr").nth(0).inner_text()

    page.goto(f"{service.url}/problems/add-arrays")
    page.set_input_files("input[type=file]", str(SOLUTION))
    page.click(".submit button[type=submit]")
    page.wait_for_url(f"{service.url}/submissions")
    page.evaluate("window.__same_page = true")
    verdict_cell(page, 0).filter(has_text="AC").wait_for(timeout=60_000)
    assert page.evaluate("window.__same_page === true")
    assert verdict_cell(page, 1).inner_text() == "WA"
    shot = tmp_path / "submissions.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one

    page.goto(f"{service.url}/")
    assert "Solved 1 of 3 problems" in page.inner_text("main")
    row = page.locator('tr[data-problem="add-arrays"] td.status')
    assert row.inner_text() == "solved"


def test_a_frozen_board_stops_changing_on_the_contestants_screen(
    service: Service, page: Any, tmp_path: Path
) -> None:
    organiser = service.client(service.add_user("olga", organiser=True)["token"])
    source = (
        "name: live-round\ntitle: Live round\nduration_minutes: 60\n"
        "problems:\n  - {slug: add-arrays, points: 50}\n  - {slug: threshold, points: 100}\n"
    )
    assert organiser.post("/api/v1/rounds", json={"source": source}).status_code == 201
    assert organiser.post("/api/v1/rounds/live-round/start").status_code == 200
    user = service.add_user("max")
    page.goto(f"{service.url}/login")
    page.fill("input[name=name]", "max")
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{service.url}/")

    page.goto(f"{service.url}/rounds/live-round")
    assert "left" in page.inner_text("#clock")
    row = page.locator('tr[data-problem="add-arrays"]')
    row.locator("input[type=file]").set_input_files(str(STARTER))
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{service.url}/submissions")
    page.locator("#submissions tbody tr").nth(0).locator("td.verdict").filter(
        has_text="scored"
    ).wait_for(timeout=60_000)

    page.goto(f"{service.url}/rounds/live-round/scoreboard")
    board = page.locator("#public-board")
    header = [cell.inner_text() for cell in board.locator("thead th").all()]
    assert header[:3] == ["#", "Contestant", "Total"]
    max_row = board.locator("tbody tr", has_text="max")
    assert max_row.locator("td.total").inner_text() == "0.0"
    assert organiser.post("/api/v1/rounds/live-round/freeze").status_code == 200
    page.locator("#board-state", has_text="Frozen").wait_for(timeout=10_000)

    with service.client(user["token"]) as api:
        fixed = api.post(
            "/api/v1/submissions",
            data={"problem": "add-arrays", "round": "live-round"},
            files={"file": ("solution.py", SOLUTION.read_bytes())},
        ).json()
        deadline = 60.0
        while api.get(f"/api/v1/submissions/{fixed['id']}").json()["state"] != "done":
            page.wait_for_timeout(200)
            deadline -= 0.2
            assert deadline > 0
    page.wait_for_timeout(4_000)  # more than one refresh of the board
    assert max_row.locator("td.total").inner_text() == "0.0"  # frozen: unchanged
    assert organiser.post("/api/v1/rounds/live-round/thaw").status_code == 200
    max_row.locator("td.total", has_text="50.0").wait_for(timeout=10_000)
    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    organiser.close()
