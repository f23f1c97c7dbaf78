"""The published scoreboard opens in a real headless Chromium (Debian's, driven by
Playwright; no browser download) and shows the ranking and both plots.

Chromium starts with every background connection off and a fresh profile, so it
makes no connection off this machine; the page itself loads nothing from a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from judge.data import Secret
from judge.rounds.jsonl_store import JsonlStore
from judge.rounds.judging import boards, judge_round
from judge.rounds.publish import publish
from judge.rounds.submissions import discover
from tests.browser import chromium_context
from tests.rounds.helpers import BANK, five_contestants, fixture_round
from tests.rounds.test_judging import fake

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[object]:
    with chromium_context(tmp_path / "profile") as context:
        yield context.new_page()


def published_round(folder: Path) -> Path:
    store = JsonlStore(folder / "results")
    subs = five_contestants(folder / "subs")
    found = discover(fixture_round(), subs)
    summary = judge_round(fixture_round(), BANK, found, store, fake(), Secret(b"browser", "t"))
    manifest = store.read_manifest()
    private, public = boards(fixture_round(), manifest, summary.records)
    records = list(summary.records.values())
    page = folder / "scoreboard.html"
    page.write_text(publish(fixture_round(), private, public, records, manifest).html)
    return page


def test_the_scoreboard_shows_the_ranking_and_the_plots_in_chromium(
    tmp_path: Path, browser_page: object
) -> None:
    from matplotlib.image import imread
    from playwright.sync_api import Page

    page: Page = browser_page  # type: ignore[assignment]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    html = published_round(tmp_path)
    page.goto(html.as_uri())
    final = page.locator("table.ranking[data-board=private] tbody tr")
    assert final.count() == 5
    names = [final.nth(i).locator("td.name").inner_text() for i in range(5)]
    assert sorted(names) == ["buggy", "crashing", "honest", "missing", "notebook"]
    assert "NS" in final.nth(names.index("missing")).inner_text()
    assert page.locator("table.ranking[data-board=public] tbody tr").count() == 5
    for plot in ("#distribution", "#verdicts"):
        width = page.eval_on_selector(plot, "img => img.complete ? img.naturalWidth : 0")
        assert width > 300, f"{plot} did not render"
    shot = tmp_path / "scoreboard.png"
    page.screenshot(path=str(shot), full_page=True)
    pixels = imread(str(shot))[..., :3]
    assert pixels.shape[0] > 900 and pixels.shape[1] == 1280
    not_white = np.mean(np.any(pixels < 0.9, axis=-1))
    assert not_white > 0.05, "the screenshot is blank"
    assert pixels.std() > 0.1
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}
    print(f"screenshot: {pixels.shape[1]}x{pixels.shape[0]} px, {shot.stat().st_size} bytes")


def test_the_mock_papers_problems_fit_a_laptop_screen_with_rank_name_and_total_first(
    tmp_path: Path, browser_page: object
) -> None:
    from playwright.sync_api import Page

    from judge.bank import Bank
    from judge.rounds.records import Manifest
    from judge.rounds.roundfile import load_round, round_path
    from judge.rounds.standings import compute_standings
    from judge.verdicts import PartResult
    from tests.rounds.helpers import record

    page: Page = browser_page  # type: ignore[assignment]
    bank = Bank(Path(__file__).resolve().parents[2])
    round_ = load_round(bank, round_path(bank, "mock-round-1"))
    assert len(round_.slugs) == 9
    names = [f"contestant-with-a-long-name-{i}" for i in range(12)]
    manifest = Manifest(round_.name, "subs", names, [])
    records = []  # every problem judged in parts for one contestant: the part lines show
    for minute, slug in enumerate(round_.slugs):
        spec = round_.problems[slug].spec
        parts = tuple(
            PartResult(part.id, part.title, part.points, part.points, "right", part.points)
            for part in spec.scored_parts
        )
        done = record(names[0], slug, minute, spec.max_points, max_score=spec.max_points)
        records.append(replace(done, result=replace(done.result, parts=parts)))
    private = compute_standings(round_.spec, names, records, "private")
    public = compute_standings(round_.spec, names, records, "public")
    html = tmp_path / "board.html"
    html.write_text(publish(round_, private, public, records, manifest).html)
    page.goto(html.as_uri())
    table = page.locator("table.ranking[data-board=private]")
    heads = [h.inner_text().split("\n")[0] for h in table.locator("thead th").all()]
    assert heads[:3] == ["#", "contestant", "total"]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the board runs {overflow} px off the right edge at 1280 px"
    box = table.locator("tbody tr").first.locator("td.total").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
