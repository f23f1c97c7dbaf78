"""Judge a whole round: every contestant's files, N runs at a time, resumably.

Runs are pinned to disjoint cores (judge.batch), so no two runs share a core. Each
verdict is stored the moment it is made (any VerdictStore: judge.rounds.records); a
second call judges only what has no verdict yet, what changed since, and what got IE
(the judge's own fault), the last at most MAX_IE_TRIES times on the same bytes: after
that the file is a judge fault for the organiser (a notice, and `judge round
rejudge`), not judged again on every call. A file that cannot be run gets CE, a
broken problem IE: one contestant or one problem never stops the batch.

Judging takes what was discovered (a Discovery: judge.rounds.submissions.discover
finds it on disk) and never looks for files itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from judge.bank import Bank
from judge.batch import cores_for, run_pinned
from judge.data import Secret
from judge.errors import InvalidSource, JudgeError, UsageError
from judge.rounds.records import Manifest, Record, VerdictStore
from judge.rounds.roundfile import Round
from judge.rounds.standings import RankChange, Standings, compute_standings, rank_changes
from judge.rounds.submissions import Discovery, Submission
from judge.runner import Judge, as_result, unjudged_result
from judge.sandbox.base import Sandbox
from judge.text import printable
from judge.verdicts import Result, Retry, Verdict

log = logging.getLogger(__name__)

# Judgements of the same bytes that may end in IE before the judge stops retrying them.
MAX_IE_TRIES = 3

Progress = Callable[[int, int, str], None]
# One file to judge: the submission, its rejudge count, its IE judgements in a row so far.
Task = tuple[Submission, int, int]


@dataclass
class JudgeSummary:
    """What one judging call did."""

    judged: int
    already: int
    discovery: Discovery
    # The discovery's notices, then judging's own (files changed since judged, IE given up).
    notices: list[str] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)


def judge_submission(
    round_: Round,
    item: Submission,
    judge: Judge,
    cpuset: tuple[int, ...] | None = None,
    rejudge: int = 0,
    ie_before: int = 0,
) -> Record:
    """Judge one file of a round; every outcome becomes a record, never an exception.

    An infrastructure failure that may go away (a Retry) is judged once more at once;
    a second one is recorded as IE, which the next call judges again (MAX_IE_TRIES).
    ie_before: how many judgements of these bytes in a row already ended in IE.
    """
    problem = round_.problems[item.problem]
    sandbox = judge.sandbox
    if cpuset is not None:
        cpuset = cores_for(cpuset, problem.spec.cpus)
    try:
        outcome = judge.judge(problem, item.path, item.contestant, cpuset)
        if isinstance(outcome, Retry):
            log.warning("retrying %s once: %s", item.key, outcome.reason)
            outcome = judge.judge(problem, item.path, item.contestant, cpuset)
        result = as_result(outcome, problem)
    except InvalidSource as exc:
        why = str(exc).replace(str(item.path), item.key)  # the organiser's folders stay private
        result = unjudged_result(round_.problems[item.problem], Verdict.CE, why, sandbox.name)
    except JudgeError as exc:  # a broken problem or infrastructure: never the contestant's
        log.error("cannot judge %s: %s", item.key, exc)
        result = unjudged_result(round_.problems[item.problem], Verdict.IE, str(exc), sandbox.name)
    return _record(item, result, rejudge, ie_before)


def _record(item: Submission, result: Result, rejudge: int, ie_before: int = 0) -> Record:
    return Record(
        key=item.key,
        contestant=item.contestant,
        problem=item.problem,
        file=item.path.name,
        sha256=item.sha256,
        submitted_at=item.submitted_at,
        judged_at=datetime.now(UTC),
        result=result,
        rejudge=rejudge,
        ie_tries=ie_before + 1 if result.verdict is Verdict.IE else 0,
    )


def _load_problems(round_: Round, todo: list[Task], judge: Judge, jobs: int) -> None:
    """Compute the truth of every draw `todo` needs (Judge.load), before any file is run.

    A problem that fails to load is logged; its files get IE as they are judged.
    """
    contestants: dict[str, set[str]] = {}
    for item, _, _ in todo:
        contestants.setdefault(item.problem, set()).add(item.contestant)

    def load(slug: str, cpuset: tuple[int, ...]) -> None:
        judge.load(round_.problems[slug], contestants[slug])

    for slug, outcome in run_pinned(load, sorted(contestants), jobs):
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # KeyboardInterrupt, SystemExit: stop before judging
        if isinstance(outcome, Exception):
            log.error("cannot load %s: %s; its files get IE as they are judged", slug, outcome)


def _judge_all(
    round_: Round,
    todo: list[Task],
    bank: Bank,
    store: VerdictStore,
    sandbox: Sandbox,
    secret: Secret,
    jobs: int,
    progress: Progress | None,
) -> int:
    """Judge `todo` and store each record as it comes."""

    judge = Judge(bank, sandbox, secret)
    _load_problems(round_, todo, judge, jobs)

    def work(task: Task, cpuset: tuple[int, ...]) -> Record:
        item, rejudge, ie_before = task
        return judge_submission(round_, item, judge, cpuset, rejudge, ie_before)

    done = 0
    for (item, rejudge, ie_before), outcome in run_pinned(work, todo, jobs):
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # KeyboardInterrupt, SystemExit: stop; what is stored stays
        if isinstance(outcome, BaseException):  # a judge bug: IE, and the batch goes on
            log.error("judging %s failed", item.key, exc_info=outcome)
            why = f"{type(outcome).__name__}: {outcome}"
            result = unjudged_result(round_.problems[item.problem], Verdict.IE, why, sandbox.name)
            outcome = _record(item, result, rejudge, ie_before)
        store.append(outcome)
        done += 1
        if progress is not None:
            progress(done, len(todo), f"{item.key}: {outcome.result.verdict}")
    return done


def _manifest(
    round_: Round, found: Discovery, notices: list[str], sandbox: Sandbox, secret: Secret
) -> Manifest:
    return Manifest(
        round=round_.name,
        submissions_dir=str(found.folder.resolve()),
        contestants=found.contestants,
        missing=found.missing,
        notices=[printable(notice, keep_newlines=False) for notice in notices],
        sandbox=sandbox.name,
        secret_source="development" if secret.is_development else "a real secret",
    )


def judge_round(
    round_: Round,
    bank: Bank,
    found: Discovery,
    store: VerdictStore,
    sandbox: Sandbox,
    secret: Secret,
    jobs: int = 1,
    progress: Progress | None = None,
) -> JudgeSummary:
    """Judge every discovered submission that has no stored verdict yet.

    found: the round's submissions (judge.rounds.submissions.discover); the manifest
    records its folder and notices, and who handed in nothing.
    """
    stored = store.load()
    notices = list(found.notices)
    todo: list[Task] = []
    for item in found.submissions:
        earlier = stored.get(item.key)
        if earlier is None:
            todo.append((item, 0, 0))
        elif earlier.sha256 != item.sha256:
            notices.append(f"{item.key}: changed since it was judged; judged again")
            todo.append((item, earlier.rejudge + 1, 0))
        elif earlier.result.verdict is Verdict.IE and earlier.ie_tries < MAX_IE_TRIES:
            todo.append((item, earlier.rejudge + 1, earlier.ie_tries))
        elif earlier.result.verdict is Verdict.IE:
            notices.append(
                f"{item.key}: the judge failed on this file {earlier.ie_tries} times (IE), a "
                f"judge fault, not the contestant's; not retried: see the judge's log, then "
                f"`judge round rejudge --problem {item.problem}`"
            )
    store.write_manifest(_manifest(round_, found, notices, sandbox, secret))
    judged = _judge_all(round_, todo, bank, store, sandbox, secret, jobs, progress)
    return JudgeSummary(
        judged=judged,
        already=len(found.submissions) - len(todo),
        discovery=found,
        notices=notices,
        records=store.load(),
    )


@dataclass(frozen=True)
class Rejudge:
    """What a rejudge of one problem changed."""

    judged: int
    private: list[RankChange]
    public: list[RankChange]


def boards(
    round_: Round, manifest: Manifest, records: dict[str, Record]
) -> tuple[Standings, Standings]:
    """The private (final) and public boards of the stored records."""
    latest = list(records.values())
    return (
        compute_standings(round_.spec, manifest.contestants, latest, "private"),
        compute_standings(round_.spec, manifest.contestants, latest, "public"),
    )


def rejudge_problem(
    round_: Round,
    slug: str,
    bank: Bank,
    found: Discovery,
    store: VerdictStore,
    sandbox: Sandbox,
    secret: Secret,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Rejudge:
    """Judge every discovered submission of one problem again and report the ranks that moved.

    found: the round's submissions, discovered again where the manifest says they are
    (its submissions_dir).
    """
    if slug not in round_.slugs:
        raise UsageError(f"{slug!r} is not a problem of {round_.name}: {', '.join(round_.slugs)}")
    manifest = store.read_manifest()
    stored = store.load()
    before = boards(round_, manifest, stored)
    todo: list[Task] = [
        (item, stored[item.key].rejudge + 1 if item.key in stored else 0, 0)
        for item in found.submissions
        if item.problem == slug
    ]
    judged = _judge_all(round_, todo, bank, store, sandbox, secret, jobs, progress)
    after = boards(round_, manifest, store.load())
    return Rejudge(
        judged,
        rank_changes(before[0], after[0]),
        rank_changes(before[1], after[1]),
    )
