"""Round files: `rounds/<name>.yaml`, validated like problem specs.

A round names its problems and their points, its duration, how many submissions a
contestant may make per problem, which one counts (their best or their last), the
public/private split of the hidden scores (leaderboard A during the round, B for the
final result), the tie-break (the earlier last improvement wins), whether hints may be
revealed during the round and what each costs, and when the editorials open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from judge.bank import Bank
from judge.errors import SpecError, UsageError
from judge.spec import SLUG, Problem, describe_validation_error, read_yaml_mapping

ROUND_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundProblem(_Strict):
    """One problem of the round and what it is worth."""

    slug: Annotated[str, Field(pattern=SLUG.pattern)]
    points: Annotated[float, Field(gt=0, le=10_000)]
    submission_limit: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None, description="overrides the round's submission_limit for this problem"
    )


class LeaderboardSpec(_Strict):
    """The public/private split of the hidden scores."""

    public_fraction: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        None,
        description="share of each hidden split on the public leaderboard "
        "(default: each problem's dataset.public_fraction)",
    )
    publish_private: bool = Field(
        True, description="show the private (final) ranking; false while the round is running"
    )
    parts: bool = Field(
        False, description="scoreboards show a column per part of the problems in parts"
    )


class HintPolicy(_Strict):
    """Whether contestants may reveal the problems' hints during the round, at what cost."""

    allowed: bool = Field(False, description="hints can be revealed while the round runs")
    cost: Annotated[float, Field(ge=0, le=10_000)] = Field(
        0.0, description="points taken off a problem (never below 0) per hint revealed on it"
    )


class RoundSpec(_Strict):
    """The whole of a round file."""

    name: Annotated[str, Field(pattern=ROUND_NAME, description="the file's stem")]
    title: Annotated[str, Field(min_length=3)]
    start: datetime | None = Field(
        None, description="when the round starts (with a time zone); files outside it are late"
    )
    duration_minutes: Annotated[int, Field(ge=1, le=10_080)]
    problems: Annotated[list[RoundProblem], Field(min_length=1, max_length=100)]
    submission_limit: Annotated[int, Field(ge=1, le=1000)] = 10
    counts: Literal["best", "last"] = Field(
        "best", description="best: each leaderboard takes the best score; last: the last file"
    )
    leaderboard: LeaderboardSpec = Field(default_factory=lambda: LeaderboardSpec.model_validate({}))
    tie_break: Literal["earlier_last_improvement"] = "earlier_last_improvement"
    hints: HintPolicy = Field(default_factory=lambda: HintPolicy.model_validate({}))
    editorials: Literal["after_end", "after_publish"] = Field(
        "after_end",
        description="when the problems' editorials open to contestants: when the round "
        "ends, or when the organiser publishes the final board",
    )

    @model_validator(mode="after")
    def _checks(self) -> RoundSpec:
        slugs = [p.slug for p in self.problems]
        if doubled := sorted({s for s in slugs if slugs.count(s) > 1}):
            raise ValueError(f"problem(s) listed twice: {', '.join(doubled)}")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-12-05T09:00:00Z")
        return self

    @property
    def end(self) -> datetime | None:
        if self.start is None:
            return None
        return self.start + timedelta(minutes=self.duration_minutes)

    def problem(self, slug: str) -> RoundProblem:
        return next(p for p in self.problems if p.slug == slug)

    def limit_for(self, slug: str) -> int:
        return self.problem(slug).submission_limit or self.submission_limit


@dataclass(frozen=True)
class Round:
    """A loaded round: its spec, its file and its problems (with the round's public split)."""

    spec: RoundSpec
    path: Path
    problems: dict[str, Problem]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def slugs(self) -> list[str]:
        return [p.slug for p in self.spec.problems]


def round_path(bank: Bank, name_or_path: str) -> Path:
    """Resolve ROUND: a path to a round file, or a name under the bank's rounds/."""
    given = Path(name_or_path)
    if given.suffix in (".yaml", ".yml") or given.exists():
        return given
    candidate = bank.root / "rounds" / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in (bank.root / "rounds").glob("*.yaml"))
    names = ", ".join(known) or "none"
    raise UsageError(f"no round {name_or_path!r}: give a round file's path or one of: {names}")


def load_round(bank: Bank, path: Path) -> Round:
    """Load a round file and its problems; SpecError names the file, the field and the fix."""
    raw = read_yaml_mapping(path, "round file")
    try:
        spec = RoundSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{path}: {describe_validation_error(exc, RoundSpec)}") from None
    if spec.name != path.stem:
        raise SpecError(f"{path}: name: {spec.name!r} differs from the file name {path.stem!r}")
    known = bank.slugs()
    unknown = [p.slug for p in spec.problems if p.slug not in known]
    if unknown:
        raise SpecError(
            f"{path}: problems: unknown problem(s) {', '.join(unknown)}; "
            f"the bank has: {', '.join(known)}"
        )
    problems = {}
    for item in spec.problems:
        problem = bank.problem(item.slug)
        fraction = spec.leaderboard.public_fraction
        if fraction is not None and problem.spec.runs:
            dataset = problem.spec.dataset.model_copy(update={"public_fraction": fraction})
            problem = Problem(
                problem.spec.model_copy(update={"dataset_section": dataset}),
                problem.folder,
                problem.reference_folder,
            )
        problems[item.slug] = problem
    return Round(spec, path, problems)


def utc(moment: datetime) -> datetime:
    """The same moment in UTC (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
