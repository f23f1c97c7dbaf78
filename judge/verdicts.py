"""Verdicts, the contestant-facing messages for them, and the result of judging one submission.

A `Result` is a frozen dataclass with `to_dict`/`from_dict`, so it crosses a process,
a file or a queue unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The closed set of outcomes of judging one submission."""

    AC = "AC"  # accepted: metric meets the pass threshold
    WA = "WA"  # wrong answer: metric below the pass threshold
    TLE = "TLE"  # time limit exceeded (wall clock)
    MLE = "MLE"  # memory limit exceeded (from the OOM counters)
    OLE = "OLE"  # output limit exceeded
    RE = "RE"  # runtime error: non-zero exit or killed by a signal
    IO = "IO"  # invalid output: missing, non-regular, unparsable, wrong shape, NaN
    IE = "IE"  # internal error: the judge's fault, never the contestant's
    # Only in rounds, where a contestant's file must still get a verdict:
    CE = "CE"  # cannot run: the file is empty, binary, not UTF-8 or a notebook with magics
    NS = "NS"  # no submission: no file for this problem


MESSAGES: dict[Verdict, str] = {
    Verdict.AC: "Accepted: your metric meets the pass threshold.",
    Verdict.WA: "Wrong answer: your metric is below the pass threshold.",
    Verdict.TLE: "Time limit exceeded: the run was killed at the wall-clock limit.",
    Verdict.MLE: "Memory limit exceeded: the run hit its memory limit.",
    Verdict.OLE: "Output limit exceeded: the output folder reached its size cap.",
    Verdict.RE: "Runtime error: your program exited with an error.",
    Verdict.IO: "Invalid output: what your program wrote could not be scored.",
    Verdict.IE: "Internal error: the judge failed; this is not your fault. Please report it.",
    Verdict.CE: "Cannot run: the submitted file could not be turned into a program.",
    Verdict.NS: "No submission: no file for this problem was handed in.",
}


# The verdict's message for a problem in parts (or one caught using a banned API).
PARTS_MESSAGES: dict[Verdict, str] = {
    Verdict.AC: "Accepted: every part earned its full points.",
    Verdict.WA: "Wrong answer: not every part earned its full points.",
}
# The message of a one-part problem whose file uses what it bans (it scores 0).
BANNED_MESSAGE = "Wrong answer: the file uses what the problem bans, so it scores 0:"


@dataclass(frozen=True)
class MetricValue:
    """A named metric and its value (None when nothing could be scored)."""

    name: str
    value: float | None


@dataclass(frozen=True)
class PartResult:
    """The points one part of a problem earned, and why it lost any.

    points, public_points: on the private part of the hidden split (final) and on
    the public part (the leaderboard during a round); message and public_message
    likewise (the public one is all a contestant sees while a round runs).
    """

    id: str
    title: str
    points: float
    max_points: float
    message: str = ""
    public_points: float = 0.0
    public_message: str = ""
    explanation: str = ""  # the setter's (a quiz item's): shown in practice, never in a round

    @property
    def full(self) -> bool:
        return self.points >= self.max_points


@dataclass(frozen=True)
class Result:
    """The outcome of judging one submission on one problem.

    `metric` and `score` come from the private part of the hidden split (the final
    result); `public_metric` and `public_score` from the public part (what a
    leaderboard shows during a round). Both are None or 0 when nothing was scored.
    """

    problem: str
    verdict: Verdict
    score: float
    max_score: float
    metric: MetricValue
    message: str
    sandbox: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    public_score: float | None = None
    public_metric: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # What made this verdict: the problem's content digest, the sandbox (backend, image),
    # the judge's version; a rejudge can tell what changed.
    provenance: dict[str, str] = field(default_factory=dict)
    # The problem's parts (spec `parts`), in spec order; empty for a one-part problem.
    parts: tuple[PartResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        data["parts"] = [asdict(part) for part in self.parts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Rebuild a Result from `to_dict` output."""
        values = dict(data)
        values["verdict"] = Verdict(values["verdict"])
        values["metric"] = MetricValue(**values["metric"])
        values["parts"] = tuple(PartResult(**part) for part in values.get("parts", ()))
        return cls(**values)


@dataclass(frozen=True)
class Retry:
    """An infrastructure failure that may go away (engine restarted, scorer died): judge again.

    Never shown to a contestant as final: a worker retries it; the CLI shows it as IE.
    """

    problem: str
    reason: str
    sandbox: str

    def as_result(self, max_score: float, metric: str) -> Result:
        """Return the IE Result that stands for this outcome where nothing can retry."""
        return Result(
            problem=self.problem,
            verdict=Verdict.IE,
            score=0.0,
            max_score=max_score,
            metric=MetricValue(metric, None),
            message=f"{MESSAGES[Verdict.IE]} ({self.reason})",
            sandbox=self.sandbox,
            details={"retryable": True},
        )


# What judging one submission gives: a Result, or a Retry for a failure that may go away.
Outcome = Result | Retry
