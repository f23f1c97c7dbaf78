"""Round files are validated like specs: one-line errors naming the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bank import Bank
from judge.errors import SpecError, UsageError
from judge.rounds.roundfile import load_round, round_path
from tests.rounds.helpers import BANK, write_round

GOOD = """
name: my-round
title: My round
duration_minutes: 90
problems:
  - {slug: threshold, points: 100}
  - {slug: add-arrays, points: 50, submission_limit: 2}
"""
ROOT = Path(__file__).resolve().parents[2]


def test_a_round_file_loads_with_its_defaults(tmp_path: Path) -> None:
    round_ = load_round(BANK, write_round(tmp_path, GOOD))
    assert round_.slugs == ["threshold", "add-arrays"]
    assert round_.spec.counts == "best" and round_.spec.submission_limit == 10
    assert round_.spec.limit_for("add-arrays") == 2 and round_.spec.limit_for("threshold") == 10
    assert round_.spec.leaderboard.publish_private
    assert not round_.spec.hints.allowed and round_.spec.hints.cost == 0
    assert round_.spec.editorials == "after_end"
    policy = GOOD + "hints: {allowed: true, cost: 5}\neditorials: after_publish\n"
    strict = load_round(BANK, write_round(tmp_path, policy)).spec
    assert strict.hints.allowed and strict.hints.cost == 5.0
    assert strict.editorials == "after_publish"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("duration_minutes", "duration_minute"),
            "duration_minute: unknown field; did you mean 'duration_minutes'?",
        ),
        (
            GOOD.replace("points: 100", "point: 100"),
            "problems.0.point: unknown field; did you mean 'points'?",
        ),
        (
            GOOD.replace("slug: threshold", "slug: thresholds"),
            "unknown problem(s) thresholds; the bank has: add-arrays, threshold",
        ),
        (
            GOOD.replace("add-arrays, points: 50", "threshold, points: 50"),
            "problem(s) listed twice: threshold",
        ),
        (
            GOOD.replace("name: my-round", "name: other-round"),
            "name: 'other-round' differs from the file name 'my-round'",
        ),
        (GOOD + "counts: first\n", "counts: Input should be 'best' or 'last'"),
        (GOOD + "hints: {allowed: true, cost: -1}\n", "hints.cost: Input should be greater"),
        (GOOD + "editorials: never\n", "editorials: Input should be 'after_end' or"),
        (GOOD + "start: 2026-12-05T09:00:00\n", "start needs a time zone"),
        (
            GOOD.replace("duration_minutes: 90", "duration_minutes: 0"),
            "duration_minutes: Input should be greater than or equal to 1",
        ),
        ("- just\n- a list\n", "expected a mapping of fields"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_broken_round_file_gets_one_line_naming_the_fault(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_round(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_round(BANK, path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_public_fraction_of_the_round_overrides_each_problems_own(tmp_path: Path) -> None:
    text = GOOD + "leaderboard: {public_fraction: 0.5}\n"
    round_ = load_round(BANK, write_round(tmp_path, text))
    assert all(p.spec.dataset.public_fraction == 0.5 for p in round_.problems.values())
    assert BANK.problem("threshold").spec.dataset.public_fraction != 0.5


def test_a_round_is_found_by_name_in_the_banks_rounds_folder() -> None:
    assert round_path(BANK, "fixture-round") == BANK.root / "rounds" / "fixture-round.yaml"
    with pytest.raises(UsageError, match="one of: fixture-round"):
        round_path(BANK, "no-such-round")


@pytest.mark.parametrize("path", sorted((ROOT / "rounds").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_round_file_of_the_bank_loads(path: Path) -> None:
    assert load_round(Bank(ROOT), path).slugs


def test_the_programs_round_has_eight_problems_one_per_study_guide_section() -> None:
    bank = Bank(ROOT)
    round_ = load_round(bank, ROOT / "rounds" / "programs-round.yaml")
    assert len(round_.slugs) == 8
    assert sorted(p.spec.section for p in round_.problems.values()) == list(range(1, 9))
    assert round_.spec.duration_minutes == 180


def test_mock_round_1_is_a_paper_of_quizzes_and_parts_of_about_300_points() -> None:
    bank = Bank(ROOT)
    round_ = load_round(bank, ROOT / "rounds" / "mock-round-1.yaml")
    specs = [p.spec for p in round_.problems.values()]
    assert 280 <= sum(item.points for item in round_.spec.problems) <= 320
    assert sum(1 for s in specs if s.kind == "quiz") >= 4
    assert sum(len(s.scored_parts) or 1 for s in specs) >= 37
    for item in round_.spec.problems:  # each part keeps its points
        spec = round_.problems[item.slug].spec
        assert item.points == spec.max_points or not spec.scored_parts
    assert any(s.banned for s in specs)
