"""Parallel runs pinned to cores: slots never share a core; errors speak of jobs, not flags."""

from __future__ import annotations

import pytest

from judge.batch import core_slots
from judge.errors import UsageError


def test_slots_are_disjoint_and_equal() -> None:
    assert core_slots(2, (0, 1, 2, 3, 4)) == [(0, 1), (2, 3)]


def test_too_many_jobs_is_a_usage_error_in_library_words() -> None:
    with pytest.raises(UsageError) as caught:
        core_slots(3, (0, 1))
    assert str(caught.value) == "3 parallel jobs need 3 cores but only 2 are usable here"
    with pytest.raises(UsageError, match="jobs must be at least 1") as caught:
        core_slots(0, (0, 1))
    assert "--" not in str(caught.value)
