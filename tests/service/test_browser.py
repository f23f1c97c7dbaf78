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
