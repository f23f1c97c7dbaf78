"""Judge one submission on one problem: the Judge object, its three steps, and the verdicts.

    judge = Judge(bank, sandbox, secret)
    with judge.prepare(problem, source) as prepared:   # folders, data, command, limits
        facts = judge.execute(prepared)               # the sandbox run -> RunFacts
        result = judge.score(prepared, facts)         # facts and outputs -> Result
    outcome = judge.judge(problem, source)            # the three chained: Result | Retry

The Judge owns what used to be module state: the scorer server it scores with and the
memo of expected answers (a function problem's reference is run once per draw, not
once per submission: by `judge.load(problem)` before any run, else by the draw's first
run). How a problem is staged and scored belongs to its kind (judge.kinds); this
module knows no kind.

The submission sees public training data and the hidden split's inputs only; the
hidden labels and expected answers stay in this process. Nothing computed inside the
sandbox is trusted: outputs are read back as untrusted files and scored in a separate
scorer process (judge.scorer).

A problem in parts gets a PartResult per part (`part_results`): its kind measures each
part in the scorer, the pure `judge.scoring.part_points` turns measures into points,
and a banned use the static check found (`judge.banned`, run on the source here,
before anything runs) gives the parts it applies to 0 points. A kind that runs
nothing (a quiz) starts no sandbox: its hand-in becomes the output the kind scores.
`practice=` judges on a practice folder's data and answers instead of the hidden split.

Failures are decided in one place, `judge`: the contestant's fault is a verdict (IO,
OLE, RE, ...; an unrunnable file raises InvalidSource before anything runs); a broken
problem raises SpecError; an infrastructure failure that may go away (SandboxError: the
engine, a cgroup; ScorerUnavailable: the scorer process died) is a Retry; a grading bug
(ScorerError) and any other exception are IE, logged with the file's digest.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from judge.bank import Bank, problem_digest
from judge.banned import BanReport, check_source
from judge.data import Secret
from judge.errors import (
    InvalidOutput,
    InvalidSource,
    SandboxError,
    ScorerError,
    ScorerUnavailable,
    SpecError,
)
from judge.kinds import HANDED_IN, get_kind
from judge.notebooks import notebook_to_script
from judge.sandbox.base import CODE_DIR, DATA_DIR, OUTPUT_DIR, Limits, Mount, RunFacts, Sandbox
from judge.sandbox.workspace import capped_directory, run_folder
from judge.scorer import ScorerServer, default_server, score_outputs
from judge.scoring import Scores, part_points, passes, scaled_points
from judge.spec import Problem, ProblemSpec, all_bans
from judge.text import printable
from judge.verdicts import (
    BANNED_MESSAGE,
    MESSAGES,
    PARTS_MESSAGES,
    MetricValue,
    Outcome,
    PartResult,
    Result,
    Retry,
    Verdict,
)

log = logging.getLogger(__name__)

try:
    JUDGE_VERSION = metadata.version("olympiad-judge")
except metadata.PackageNotFoundError:  # run from a checkout without installing
    JUDGE_VERSION = "unknown"
MAX_SOURCE_BYTES = 1024 * 1024
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # stored outputs (plots) make notebooks large
STDERR_LINES = 20
STDERR_CHARS = 2000
# A kind that runs nothing (a quiz): no sandbox, a clean exit, and limits never used.
NOT_RUN = "none"
HANDED_IN_FACTS = RunFacts(0, None, 0.0, 0.0, 0.0, False, False, False)
HAND_IN_LIMITS = Limits(wall_s=1.0, memory_mb=64, cpuset=(), output_mb=1)


def read_source(path: Path) -> str:
    """Return a submission's Python source, or raise InvalidSource saying what is wrong.

    A `.ipynb` notebook becomes the script of its code cells (judge.notebooks).
    """
    if path.is_symlink():
        raise InvalidSource(f"{path}: is a symlink; submit the file itself")
    if not path.exists():
        raise InvalidSource(f"{path}: no such file")
    if not path.is_file():
        raise InvalidSource(f"{path}: not a regular file; submit one .py file")
    size = path.stat().st_size
    if size == 0:
        raise InvalidSource(f"{path}: the file is empty")
    cap = MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else MAX_SOURCE_BYTES
    if size > cap:
        raise InvalidSource(f"{path}: {size} bytes, over the {cap} byte cap for a submission")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InvalidSource(f"{path}: contains NUL bytes; is it a binary file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSource(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if path.suffix == ".ipynb":
        text = notebook_to_script(text, path.name)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate a notebook's JSON escaped in
        raise InvalidSource(
            f"{path}: character {exc.start} cannot be encoded as UTF-8 (a lone surrogate)"
        ) from None
    return text


def stderr_excerpt(stderr: str) -> str:
    """Return the last lines of stderr, bounded and without control codes, for a message."""
    lines = printable(stderr[-4 * STDERR_CHARS :]).strip().splitlines()[-STDERR_LINES:]
    return "\n".join(lines)[-STDERR_CHARS:]


@dataclass(frozen=True)
class Scored:
    """What scoring the outputs gave: the verdict, private (final) and public metrics."""

    verdict: Verdict
    metric: float | None
    message: str
    public_metric: float | None = None


def verdict_from_facts(facts: RunFacts) -> Scored | None:
    """Return the verdict the facts alone decide (TLE, MLE, OLE, RE), or None to score outputs."""
    if facts.timed_out:
        return Scored(Verdict.TLE, None, MESSAGES[Verdict.TLE])
    if facts.oom:
        return Scored(Verdict.MLE, None, MESSAGES[Verdict.MLE])
    if facts.output_truncated:
        why = f" ({facts.output_reason})" if facts.output_reason else ""
        return Scored(Verdict.OLE, None, MESSAGES[Verdict.OLE] + why)
    if facts.exit_code != 0 or facts.signal is not None:
        how = f"signal {facts.signal}" if facts.signal else f"exit code {facts.exit_code}"
        excerpt = stderr_excerpt(facts.stderr_tail)
        message = f"{MESSAGES[Verdict.RE]} ({how})"
        return Scored(Verdict.RE, None, message + (f"\n{excerpt}" if excerpt else ""))
    return None


def part_results(
    spec: ProblemSpec, scores: Scores | None, bans: BanReport, failed: Verdict
) -> tuple[PartResult, ...]:
    """Each part's points: from what the kind measured, zero for a banned use.

    scores: None when the run was not scored (its verdict is `failed`).
    """
    measured = {measure.id: measure for measure in scores.parts} if scores else {}
    results = []
    for part in spec.scored_parts:
        measure = measured.get(part.id)
        broken = bans.breaking(spec.bans(part))
        zeroed = None
        if broken:
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            zeroed = f"0 points: {broken[0].describe()}{more}"
        elif measure is None:
            zeroed = f"not scored: the run ended with {failed}"
        elif measure.banned:
            zeroed = f"0 points: {measure.message}"
        if zeroed is not None or measure is None:
            why = zeroed or ""
            results.append(PartResult(part.id, part.title, 0.0, part.points, why, 0.0, why))
        else:
            direction = spec.metric.direction
            points = part_points(part, measure.private, spec.scoring, direction)
            public = part_points(part, measure.public, spec.scoring, direction)
            results.append(
                PartResult(
                    part.id,
                    part.title,
                    points,
                    part.points,
                    measure.message,
                    public,
                    measure.public_message,
                    measure.explanation,
                )
            )
    return tuple(results)


def _parts_verdict(spec: ProblemSpec, scored: Scored, parts: tuple[PartResult, ...]) -> Scored:
    """AC only when every part earned its full points; else WA, naming the parts short of it."""
    verdict = Verdict.AC if all(part.full for part in parts) else Verdict.WA
    points, most = sum(part.points for part in parts), spec.max_points
    lines = [f"{PARTS_MESSAGES[verdict]} {points:g} of {most:g} points."]
    lines += [
        f"part {p.id}: {p.points:g}/{p.max_points:g}, {p.message}" for p in parts if not p.full
    ]
    return Scored(verdict, scored.metric, "\n".join(lines), scored.public_metric)


def _banned_verdict(scored: Scored, why: str) -> Scored:
    """A one-part problem caught using a banned API: WA, whatever its metric."""
    return Scored(Verdict.WA, scored.metric, f"{BANNED_MESSAGE} {why}", scored.public_metric)


def _metric_verdict(problem: Problem, scores: Scores) -> Scored:
    spec = problem.spec
    value = scores.private
    ok = passes(value, spec.scoring.pass_, spec.metric.direction)
    verdict = Verdict.AC if ok else Verdict.WA
    relation = ">=" if spec.metric.direction == "max" else "<="
    detail = (
        f"{spec.metric.name} = {value:.4f} on the private part "
        f"(pass needs {relation} {spec.scoring.pass_}); {scores.public:.4f} on the public part"
    )
    return Scored(verdict, value, f"{MESSAGES[verdict]} {detail}", scores.public)


def run_limits(problem: Problem, cpuset: tuple[int, ...] | None) -> Limits:
    """Return a problem's limits, pinned to `cpuset` (default: the first `cpus` cores)."""
    spec = problem.spec.limits
    cores = cpuset if cpuset is not None else tuple(range(spec.cpus))
    return Limits(
        wall_s=spec.wall_s,
        memory_mb=spec.memory_mb,
        cpuset=cores,
        output_mb=spec.output_mb,
        gpu=spec.accelerator == "gpu",
    )


@dataclass
class PreparedRun:
    """One run made ready: its folders, command and limits for the sandbox; its truth kept here.

    Holds the run's folders until closed (a context manager); `truth` never reaches them.
    """

    problem: Problem
    command: list[str]
    mounts: list[Mount]
    limits: Limits
    env: dict[str, str]
    output: Path
    truth: Any
    public: list[int]
    source_sha256: str
    bans: BanReport
    _cleanup: ExitStack = field(repr=False)

    def close(self) -> None:
        """Remove the run's folders."""
        self._cleanup.close()

    def __enter__(self) -> PreparedRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Memo:
    """What a Judge computed once per problem and draw (expected answers), thread-safe."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, compute: Callable[[], Any]) -> Any:
        """Return the value kept under `key`, computing it the first time."""
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute()  # outside the lock: a slow reference must not stall other runs
        with self._lock:
            return self._values.setdefault(key, value)


class Judge:
    """Judges submissions on one bank's problems, in one sandbox, with one secret.

    Safe to share between threads; `close()` (or `with Judge(...)`) stops the scorer
    server it started. scorer: a ScorerServer to share; default: the process's own.
    """

    def __init__(
        self, bank: Bank, sandbox: Sandbox, secret: Secret, scorer: ScorerServer | None = None
    ) -> None:
        self.bank = bank
        self.sandbox = sandbox
        self.secret = secret
        self.scorer = scorer or default_server()
        self._memo = _Memo()

    def on(self, sandbox: Sandbox) -> Judge:
        """Return a Judge like this one in `sandbox`, sharing its scorer and memo.

        Close only the original: the scorer is shared.
        """
        other = Judge(self.bank, sandbox, self.secret, self.scorer)
        other._memo = self._memo
        return other

    def close(self) -> None:
        """Stop the scorer server if this Judge was given its own."""
        if self.scorer is not default_server():
            self.scorer.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remember(self, key: str, compute: Callable[[], Any]) -> Any:
        return self._memo.remember(key, compute)

    def load(self, problem: Problem, contestants: Iterable[str] | None = None) -> None:
        """Compute what judging `problem` needs once per draw, before any run (the kind's load).

        A function problem's expected answers are computed here, off the path of a
        contestant's run; without a load, the draw's first run computes them.
        contestants: whose draws, for a problem drawn per contestant (default: the
        shared draw). Raises SpecError for a broken problem (its reference fails).
        """
        kind = get_kind(problem.spec.kind)
        apart = problem.spec.per_contestant and contestants is not None
        owners: list[str | None] = [*sorted(set(contestants or ()))] if apart else [None]
        for owner in owners or [None]:
            kind.load(problem, self.bank, self.secret, owner, self._remember)

    def prepare(
        self,
        problem: Problem,
        source: Path | str,
        contestant: str | None = None,
        cpuset: tuple[int, ...] | None = None,
        practice: Path | None = None,
    ) -> PreparedRun:
        """Stage a run: write the code and the data the sandbox may see; keep the truth.

        source: the submission's file (read and checked: InvalidSource if it cannot
        run) or its text. contestant: whose hidden data, for problems drawn per
        contestant. cpuset: host cores to pin the run to. practice: a practice folder
        (`judge fetch`): the run takes its data and answers instead of the hidden split.
        """
        text = read_source(source) if isinstance(source, Path) else source
        kind = get_kind(problem.spec.kind)
        runs = problem.spec.runs
        limits = run_limits(problem, cpuset) if runs else HAND_IN_LIMITS
        cleanup = ExitStack()
        try:
            root = cleanup.enter_context(run_folder())
            code, data = root / "code", root / "data"
            code.mkdir()
            data.mkdir()
            (code / "submission.py").write_text(text, encoding="utf-8")
            if practice is not None:
                staged = kind.stage_practice(problem, practice, code, data)
            else:
                staged = kind.stage(
                    problem, self.bank, self.secret, contestant, code, data, self._remember
                )
            for path in (code, data, *code.iterdir(), *data.iterdir()):
                path.chmod(0o755 if path.is_dir() else 0o644)
            if runs:
                output = cleanup.enter_context(capped_directory(root / "output", limits.output_mb))
            else:  # nothing runs: the hand-in is the output the kind scores
                output = root / "output"
                output.mkdir()
                (output / HANDED_IN).write_text(text, encoding="utf-8")
        except BaseException:
            cleanup.close()
            raise
        mounts = [
            Mount(code, CODE_DIR),
            Mount(data, DATA_DIR),
            Mount(output, OUTPUT_DIR, writable=True),
        ]
        return PreparedRun(
            problem=problem,
            command=[self.sandbox.python, *staged.command],
            mounts=mounts,
            limits=limits,
            env={"DATA_DIR": DATA_DIR, "OUTPUT_DIR": OUTPUT_DIR},
            output=output,
            truth=staged.truth,
            public=staged.public,
            source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            bans=check_source(text, all_bans(problem.spec)),
            _cleanup=cleanup,
        )

    def execute(self, prepared: PreparedRun) -> RunFacts:
        """Run the prepared command in the sandbox; SandboxError if the sandbox failed.

        A kind that runs nothing (a quiz) starts no sandbox: its facts are a clean exit.
        """
        if not prepared.problem.spec.runs:
            return HANDED_IN_FACTS
        return self.sandbox.run(prepared.command, prepared.mounts, prepared.limits, prepared.env)

    def score(self, prepared: PreparedRun, facts: RunFacts) -> Result:
        """Turn a run's facts and outputs into its Result.

        Raises ScorerError when grading itself failed (the judge's fault).
        """
        problem = prepared.problem
        spec = problem.spec
        decided = verdict_from_facts(facts)
        scores: Scores | None = None
        if decided is None:
            try:
                scores = score_outputs(
                    spec,
                    prepared.output,
                    prepared.truth,
                    prepared.public,
                    prepared.limits.output_mb << 20,
                    self.scorer,
                )
                decided = _metric_verdict(problem, scores)
            except InvalidOutput as exc:
                decided = Scored(Verdict.IO, None, f"{MESSAGES[Verdict.IO]} {exc}")
        scored_run = decided.verdict in (Verdict.AC, Verdict.WA)
        parts = part_results(spec, scores, prepared.bans, decided.verdict)
        score, public_score = 0.0, 0.0
        if parts:
            score = round(sum(part.points for part in parts), 6)
            public_score = round(sum(part.public_points for part in parts), 6)
            if scored_run:
                decided = _parts_verdict(spec, decided, parts)
        elif scored_run and (broken := prepared.bans.breaking(spec.banned)):
            decided = _banned_verdict(decided, broken[0].describe())
        elif scored_run and scores is not None and scores.banned:
            decided = _banned_verdict(decided, f"the run called {scores.banned}, banned here")
        else:
            if decided.metric is not None:
                accepted = decided.verdict is Verdict.AC
                score = scaled_points(decided.metric, accepted, spec.scoring, spec.max_points)
            if decided.public_metric is not None:
                public_ok = passes(decided.public_metric, spec.scoring.pass_, spec.metric.direction)
                public_score = scaled_points(
                    decided.public_metric, public_ok, spec.scoring, spec.max_points
                )
        details: dict[str, Any] = {
            "exit_code": facts.exit_code,
            "signal": facts.signal,
            "warm": facts.warm,
        }
        if prepared.bans.flags:
            details["flags"] = [flag.describe() for flag in prepared.bans.flags]
        if scores is not None and scores.notes:
            details["notes"] = list(scores.notes)
            decided = replace(decided, message="\n".join([decided.message, *scores.notes]))
        return Result(
            problem=problem.id,
            verdict=decided.verdict,
            score=score,
            max_score=spec.max_points,
            metric=MetricValue(spec.metric.name, decided.metric),
            message=printable(decided.message),
            sandbox=self.sandbox.name if spec.runs else NOT_RUN,
            wall_s=round(facts.wall_s, 3),
            cpu_s=round(facts.cpu_s, 3),
            peak_mb=round(facts.peak_mb, 1),
            public_score=public_score,
            public_metric=decided.public_metric,
            details=details,
            provenance=self.provenance(problem),
            parts=parts,
        )

    def provenance(self, problem: Problem) -> dict[str, str]:
        """Return what decides this Judge's verdicts on `problem` (Result.provenance)."""
        digest = self._remember(f"digest:{problem.id}", lambda: problem_digest(problem, self.bank))
        return {
            "problem_sha256": str(digest),
            "sandbox": getattr(self.sandbox, "identity", self.sandbox.name),
            "judge": JUDGE_VERSION,
        }

    def judge(
        self,
        problem: Problem,
        source: Path | str,
        contestant: str | None = None,
        cpuset: tuple[int, ...] | None = None,
        practice: Path | None = None,
    ) -> Outcome:
        """Prepare, execute and score one submission; decide every failure (module doc).

        practice: judge on a practice folder's data instead of the hidden split.

        Raises InvalidSource for a file that cannot be run and SpecError for a broken
        problem; returns a Retry for an infrastructure failure that may go away.
        """
        text = read_source(source) if isinstance(source, Path) else source
        try:
            with self.prepare(problem, text, contestant, cpuset, practice) as prepared:
                try:
                    facts = self.execute(prepared)
                except SandboxError as exc:
                    log.warning("sandbox %s failed on %s: %s", self.sandbox.name, problem.id, exc)
                    reason = printable(str(exc), keep_newlines=False)
                    return Retry(problem.id, reason, self.sandbox.name)
                return self.score(prepared, facts)
        except (SpecError, InvalidSource):
            raise
        except ScorerUnavailable as exc:  # infrastructure, like the sandbox: judge again
            log.warning("the scorer failed on %s: %s", problem.id, exc)
            return Retry(problem.id, printable(str(exc), keep_newlines=False), self.sandbox.name)
        except ScorerError as exc:
            log.exception("scorer failed on %s", problem.id)
            return internal_error(problem, self.sandbox, str(exc))
        except Exception as exc:  # untrusted content must never crash the judge: IE, logged
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            log.exception("judging %s failed (submission sha256 %s)", problem.id, digest)
            reason = f"{type(exc).__name__} while judging; submission sha256 {digest[:16]}"
            return internal_error(problem, self.sandbox, reason)


def internal_error(problem: Problem, sandbox: Sandbox, reason: str) -> Result:
    """Return the IE Result of a judge fault on `problem`."""
    return Result(
        problem=problem.id,
        verdict=Verdict.IE,
        score=0.0,
        max_score=problem.spec.max_points,
        metric=MetricValue(problem.spec.metric.name, None),
        message=f"{MESSAGES[Verdict.IE]} ({printable(reason, keep_newlines=False)})",
        sandbox=sandbox.name,
    )


def unjudged_result(problem: Problem, verdict: Verdict, why: str, sandbox: str) -> Result:
    """Return the Result of a file that was not run: CE (cannot run) or IE (the judge failed)."""
    spec = problem.spec
    return Result(
        problem=spec.id,
        verdict=verdict,
        score=0.0,
        max_score=spec.max_points,
        metric=MetricValue(spec.metric.name, None),
        message=f"{MESSAGES[verdict]} ({printable(why, keep_newlines=False)})",
        sandbox=sandbox,
        public_score=0.0,
    )


def as_result(outcome: Outcome, problem: Problem) -> Result:
    """Return the outcome as a Result: a Retry becomes IE, where nothing can retry it."""
    if isinstance(outcome, Retry):
        return outcome.as_result(problem.spec.max_points, problem.spec.metric.name)
    return outcome


def run_submission(
    problem: Problem,
    source: Path,
    sandbox: Sandbox,
    secret: Secret,
    bank: Bank,
    cpuset: tuple[int, ...] | None = None,
    contestant: str | None = None,
) -> Result:
    """Judge `source` once through a Judge sharing the process's scorer; a Retry becomes IE.

    For one-off callers; a caller that judges many files keeps one Judge instead.
    """
    outcome = Judge(bank, sandbox, secret).judge(problem, source, contestant, cpuset)
    return as_result(outcome, problem)
