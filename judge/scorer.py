"""The scorer process: read a run's untrusted outputs and compute its metric, out of the judge.

Parsing files a submission wrote is the judge's widest attack surface, so it never
happens in the judge's process. The judge keeps one scorer server,
`python -I -B -m judge.scorer`, started with a clean environment (no secret) and `/`
as its working folder (never an output folder, so nothing a submission dropped
there can be imported). The server imports NumPy and scikit-learn once, then forks
a fresh child for every request: the child sets its resource limits, parses and
scores, answers, and exits, so nothing of one submission's files outlives its own
scoring and no request pays scikit-learn's one-second import again.

The judge sends one JSON request per line (spec, output folder, truth, public
indices) and reads one JSON answer per line, with the metric of the private part
(the final score) and of the public part (the leaderboard during a round):

    {"status": "scored", "metric": 0.93, "public_metric": 0.95, "parts": [...], "banned": ""}
    {"status": "invalid_output", "message": "predictions.npy has shape (3,), expected (500,)"}
    {"status": "scorer_error", "message": "... (scoring.py:57)"}

Which kinds the server can score: the built-in ones (judge.kinds imports them), and
the kinds the judge registered by module (judge.kinds.register_module), its
allow-list. The server is started with that list on its command line, as JSON
`{kind: {"name": module, "file": path}}`, imports each listed file once before
serving (as it does scikit-learn), and is restarted when the judge's list changes.
Requests never name code to import: a request's spec names its kind, which must be
built in or brought by the list; nothing is ever imported from a path that a request,
a problem's data or a submission gives. A listed module that fails to import in the
server makes the requests of its kind scorer errors, not a dead server.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import numpy as np

from judge.errors import InvalidOutput, ScorerError, ScorerUnavailable
from judge.kinds import KindModule, get_kind, kind_modules, load_kind_module
from judge.scoring import Scores
from judge.spec import ProblemSpec

SCORER_TIMEOUT_S = 120
SCORER_CPU_S = 100
SCORER_MEMORY_BYTES = 6 << 30
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
MAX_ANSWER_BYTES = 1 << 20


class ScorerServer:
    """The judge's handle on one scorer server process; safe to share between threads."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._allowed: dict[str, KindModule] = {}  # the kind modules the server was given

    def _start(self, allowed: dict[str, KindModule]) -> subprocess.Popen[str]:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **{name: "1" for name in THREAD_VARS}}
        kinds = json.dumps({name: asdict(module) for name, module in sorted(allowed.items())})
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  lives as long as the server
        self._allowed = allowed
        try:
            self._proc = subprocess.Popen(
                [self.python, "-I", "-B", "-m", "judge.scorer", kinds],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                cwd="/",
                env=env,
            )
        except OSError as exc:
            self._stop()
            raise ScorerUnavailable(f"the scorer process could not start: {exc}") from None
        return self._proc

    def _stop(self) -> str:
        """Stop the server; return the last line it wrote to stderr."""
        if self._proc is not None:
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):  # a broken pipe to a dead server
                        pipe.close()
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            tail = lines[-1] if lines else ""
            self._stderr.close()
            self._stderr = None
        return tail

    def _running(self, allowed: dict[str, KindModule]) -> subprocess.Popen[str] | None:
        """Return the live server process if it knows `allowed`; else stop it and return None."""
        if self._proc is not None and self._proc.poll() is None and self._allowed == allowed:
            return self._proc
        self._stop()
        return None

    def close(self) -> None:
        """Stop the server (it also stops by itself when the judge exits)."""
        with self._lock:
            self._stop()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the answer; a dead server is restarted once.

        Raises ScorerUnavailable when the server dies again (infrastructure: a Retry)
        and ScorerError when it hangs past SCORER_TIMEOUT_S.
        """
        line = json.dumps(request) + "\n"
        allowed = kind_modules()
        with self._lock:
            for attempt in (1, 2):
                proc = self._running(allowed) or self._start(allowed)
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    proc.stdin.write(line)
                    proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    answer = ""
                else:
                    ready, _, _ = select.select([proc.stdout], [], [], SCORER_TIMEOUT_S)
                    if not ready:
                        self._stop()
                        raise ScorerError(f"the scorer took over {SCORER_TIMEOUT_S} s")
                    answer = proc.stdout.readline()
                try:
                    parsed = json.loads(answer)
                    if isinstance(parsed, dict) and "status" in parsed:
                        return parsed
                except ValueError:
                    pass
                tail = self._stop() or f"exit {proc.returncode}"
                if attempt == 2:
                    raise ScorerUnavailable(f"the scorer process gave no answer ({tail})")
        raise AssertionError("unreachable")  # pragma: no cover


_server = ScorerServer()
atexit.register(_server.close)


def default_server() -> ScorerServer:
    """Return the process's shared scorer server (started on first use, stopped at exit)."""
    return _server


def score_outputs(
    spec: ProblemSpec,
    output: Path,
    truth: Any,
    public: list[int],
    max_bytes: int,
    server: ScorerServer | None = None,
) -> Scores:
    """Score the outputs in `output` against `truth` in the scorer process.

    truth: the JSON-ready truth the problem's kind staged (judge.kinds.Staged).
    public: indices of the hidden rows or calls in the public part; the rest are private.
    Raises InvalidOutput (the submission's fault), ScorerError (the judge's) or
    ScorerUnavailable (the scorer process died: infrastructure, judge again).
    """
    request = {
        "spec": spec.model_dump(mode="json", by_alias=True),
        "output_dir": str(output),
        "max_bytes": max_bytes,
        "truth": truth.tolist() if isinstance(truth, np.ndarray) else truth,
        "public": [int(i) for i in public],
    }
    answer = (server or _server).ask(request)
    status = answer["status"]
    if status == "scored":
        return Scores.from_dict(answer)
    if status == "invalid_output":
        raise InvalidOutput(str(answer["message"]))
    raise ScorerError(str(answer.get("message", "unknown scorer failure")))


# Kinds whose listed module failed to import in this server: kind -> why.
_BROKEN_KINDS: dict[str, str] = {}


def _load_kinds(listed: str) -> None:
    """Import the allow-listed kind modules (the server's argument); note those that fail."""
    for kind, module in json.loads(listed).items():
        try:
            load_kind_module(KindModule(str(module["name"]), str(module["file"])))
        except Exception as exc:  # the kind's requests get scorer errors; the server lives on
            _BROKEN_KINDS[str(kind)] = f"{type(exc).__name__}: {exc} ({_where(exc)})"


def _score(request: dict[str, Any]) -> Scores:
    kind_name = request["spec"].get("kind") if isinstance(request.get("spec"), dict) else None
    if kind_name in _BROKEN_KINDS:
        raise ScorerError(
            f"kind {kind_name}: its module failed to import: {_BROKEN_KINDS[kind_name]}"
        )
    spec = ProblemSpec.model_validate(request["spec"])
    kind = get_kind(spec.kind)
    output = Path(request["output_dir"])
    return kind.score(spec, output, request["truth"], request["public"], int(request["max_bytes"]))


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """Score one request; every failure becomes an answer, never an exception."""
    try:
        return {"status": "scored", **_score(request).to_dict()}
    except InvalidOutput as exc:
        return {"status": "invalid_output", "message": str(exc)}
    except MemoryError:
        return {"status": "invalid_output", "message": "the output is too large to score"}
    except Exception as exc:  # a grading bug: report where, never blame the contestant
        return {"status": "scorer_error", "message": f"{type(exc).__name__}: {exc} ({_where(exc)})"}


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (SCORER_CPU_S, SCORER_CPU_S))
    resource.setrlimit(resource.RLIMIT_DATA, (SCORER_MEMORY_BYTES, SCORER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _score_in_child(line: str) -> dict[str, Any]:
    """Fork, score `line` in the child under limits, and return its answer."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one request, then gone
        code = 0
        try:
            os.close(read_end)
            _limit_child()
            try:
                request = json.loads(line)
            except ValueError as exc:
                reply = {"status": "scorer_error", "message": f"unreadable request: {exc}"}
            else:
                reply = answer(request)
            os.write(write_end, json.dumps(reply).encode()[:MAX_ANSWER_BYTES])
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while chunk := pipe.read(65536):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    try:
        reply = json.loads(b"".join(chunks))
        if isinstance(reply, dict):
            return reply
    except ValueError:
        pass
    if os.WIFSIGNALED(status):
        how = f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exit {os.WEXITSTATUS(status)}"
    return {"status": "scorer_error", "message": f"the scoring child died ({how})"}


def main(argv: list[str]) -> int:
    """Serve requests from stdin, one line each, until stdin closes.

    argv: the allow-listed kind modules, as JSON (module doc); none when absent.
    """
    from sklearn import metrics  # noqa: F401  imported once here, inherited by every child

    _load_kinds(argv[0] if argv else "{}")

    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(_score_in_child(line)) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
