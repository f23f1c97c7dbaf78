"""Judge one submission on one problem: prepare the run, sandbox it, score it -> Result.

The submission sees public training data and the hidden split's inputs only; the
hidden labels and expected answers stay in this process. Nothing computed inside
the sandbox is trusted: predictions and returned values are read back as untrusted
files and scored in a separate scorer process (judge.scorer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.bank import Bank
from judge.data import (
    Secret,
    draw_function_calls,
    draw_train_predict,
    public_indices,
    write_calls,
    write_public_train_predict,
)
from judge.errors import InvalidOutput, InvalidSource, SandboxError, ScorerError, SpecError
from judge.notebooks import notebook_to_script
from judge.sandbox.base import CODE_DIR, DATA_DIR, OUTPUT_DIR, Limits, Mount, RunFacts, Sandbox
from judge.sandbox.workspace import capped_directory, run_folder
from judge.scorer import Scores, score_outputs
from judge.scoring import passes, scaled_points
from judge.spec import Problem
from judge.text import printable
from judge.verdicts import MESSAGES, MetricValue, Result, Verdict

log = logging.getLogger(__name__)

HARNESS = Path(__file__).parent / "harness" / "function_harness.py"
MAX_SOURCE_BYTES = 1024 * 1024
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024  # stored outputs (plots) make notebooks large
STDERR_LINES = 20
STDERR_CHARS = 2000
REFERENCE_TIMEOUT_S = 120


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


_expected_cache: dict[str, list[Any]] = {}


def expected_values(problem: Problem, calls_path: Path) -> list[Any]:
    """Run the (trusted) reference on the hidden calls outside the sandbox and return its values."""
    assert problem.spec.function is not None
    reference = problem.reference_folder / problem.spec.function.reference
    if not reference.is_file():
        raise SpecError(f"{reference}: reference solution missing")
    key = hashlib.sha256(calls_path.read_bytes() + reference.read_bytes()).hexdigest()
    if key in _expected_cache:
        return _expected_cache[key]
    with tempfile.TemporaryDirectory(prefix="judge-reference-") as tmp:
        out = Path(tmp) / "expected.json"
        # -B: importing the reference must not leave __pycache__ in reference/.
        command = [sys.executable, "-I", "-B", str(HARNESS), str(reference), str(calls_path)]
        command.append(str(out))
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=REFERENCE_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise SpecError(f"{reference}: reference took over {REFERENCE_TIMEOUT_S}s") from None
        if proc.returncode != 0:
            raise SpecError(f"{reference}: reference failed: {stderr_excerpt(proc.stderr)}")
        results = json.loads(out.read_text(encoding="utf-8"))
    failed = [r["error"] for r in results if not r["ok"]]
    if failed:
        raise SpecError(f"{reference}: reference raised on a hidden call: {failed[0]}")
    values = [r["value"] for r in results]
    _expected_cache[key] = values
    return values


def _limits(problem: Problem, cpuset: tuple[int, ...] | None) -> Limits:
    spec = problem.spec.limits
    cores = cpuset if cpuset is not None else tuple(range(spec.cpus))
    return Limits(
        wall_s=spec.wall_s,
        memory_mb=spec.memory_mb,
        cpuset=cores,
        output_mb=spec.output_mb,
    )


def run_submission(
    problem: Problem,
    source: Path,
    sandbox: Sandbox,
    secret: Secret,
    bank: Bank,
    cpuset: tuple[int, ...] | None = None,
    contestant: str | None = None,
) -> Result:
    """Judge `source` on `problem` in `sandbox` and return the Result.

    Raises InvalidSource for a file that cannot be run and SpecError for a broken
    problem; every other failure becomes a verdict (IE for the judge's own faults).
    cpuset: host cores to pin the run to (default: the first `cpus` cores).
    contestant: whose hidden data, for problems drawn per contestant.
    """
    text = read_source(source)
    try:
        return _judge_text(problem, text, sandbox, secret, bank, cpuset, contestant)
    except SpecError:
        raise
    except Exception as exc:  # untrusted content must never crash the judge: IE, logged
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        log.exception(
            "judging %s on %s failed (submission sha256 %s)", source.name, problem.id, digest
        )
        reason = f"{type(exc).__name__} while judging; submission sha256 {digest[:16]}"
        return _internal_error(problem, sandbox, reason)


def _judge_text(
    problem: Problem,
    text: str,
    sandbox: Sandbox,
    secret: Secret,
    bank: Bank,
    cpuset: tuple[int, ...] | None,
    contestant: str | None,
) -> Result:
    """Run and score a submission's source text (see run_submission)."""
    spec = problem.spec
    limits = _limits(problem, cpuset)
    with run_folder() as root:
        code, data = root / "code", root / "data"
        code.mkdir()
        (code / "submission.py").write_text(text, encoding="utf-8")
        env = {"DATA_DIR": DATA_DIR, "OUTPUT_DIR": OUTPUT_DIR}
        if spec.kind == "train-predict":
            drawn = draw_train_predict(spec, bank.datasets_dir, secret, contestant=contestant)
            write_public_train_predict(drawn, data, include_test=True)
            command = [sandbox.python, "-I", f"{CODE_DIR}/submission.py"]
        else:
            calls = draw_function_calls(spec, bank.datasets_dir, secret, contestant=contestant)
            calls_path = write_calls(calls, data)
            expected = expected_values(problem, calls_path)
            shutil.copyfile(HARNESS, code / "harness.py")
            command = [
                sandbox.python,
                "-I",
                f"{CODE_DIR}/harness.py",
                f"{CODE_DIR}/submission.py",
                f"{DATA_DIR}/calls.json",
                f"{OUTPUT_DIR}/results.json",
            ]
        for path in (code, data, *code.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        with capped_directory(root / "output", limits.output_mb) as output:
            mounts = [
                Mount(code, CODE_DIR),
                Mount(data, DATA_DIR),
                Mount(output, OUTPUT_DIR, writable=True),
            ]
            try:
                facts = sandbox.run(command, mounts, limits, env)
            except SandboxError as exc:
                log.exception("sandbox %s failed on %s", sandbox.name, problem.id)
                return _internal_error(problem, sandbox, str(exc))
            decided = verdict_from_facts(facts)
            if decided is None:
                truth = drawn.hidden_y if spec.kind == "train-predict" else expected
                public = public_indices(spec, secret, contestant).tolist()
                try:
                    scores = score_outputs(spec, output, truth, public, limits.output_mb << 20)
                    decided = _metric_verdict(problem, scores)
                except InvalidOutput as exc:
                    decided = Scored(Verdict.IO, None, f"{MESSAGES[Verdict.IO]} {exc}")
                except ScorerError as exc:
                    log.exception("scorer failed on %s", problem.id)
                    return _internal_error(problem, sandbox, str(exc), facts)
    score, public_score = 0.0, 0.0
    if decided.metric is not None:
        score = scaled_points(decided.metric, decided.verdict is Verdict.AC, spec.scoring)
    if decided.public_metric is not None:
        public_ok = passes(decided.public_metric, spec.scoring.pass_, spec.metric.direction)
        public_score = scaled_points(decided.public_metric, public_ok, spec.scoring)
    return Result(
        problem=problem.id,
        verdict=decided.verdict,
        score=score,
        max_score=spec.scoring.max_points,
        metric=MetricValue(spec.metric.name, decided.metric),
        message=printable(decided.message),
        sandbox=sandbox.name,
        wall_s=round(facts.wall_s, 3),
        cpu_s=round(facts.cpu_s, 3),
        peak_mb=round(facts.peak_mb, 1),
        public_score=public_score,
        public_metric=decided.public_metric,
        details={"exit_code": facts.exit_code, "signal": facts.signal},
    )


def _internal_error(
    problem: Problem, sandbox: Sandbox, reason: str, facts: RunFacts | None = None
) -> Result:
    return Result(
        problem=problem.id,
        verdict=Verdict.IE,
        score=0.0,
        max_score=problem.spec.scoring.max_points,
        metric=MetricValue(problem.spec.metric.name, None),
        message=f"{MESSAGES[Verdict.IE]} ({printable(reason, keep_newlines=False)})",
        sandbox=sandbox.name,
        wall_s=round(facts.wall_s, 3) if facts else 0.0,
        cpu_s=round(facts.cpu_s, 3) if facts else 0.0,
        peak_mb=round(facts.peak_mb, 1) if facts else 0.0,
    )
