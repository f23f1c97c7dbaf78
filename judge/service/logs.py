"""The service's logs: one JSON object per line, with the run id on every line logged
while a run is judged.

A worker sets the run it judges (`judging`); every record logged in that time on the
judging thread (the judge, the sandbox backend, the scorer client) and on its lease
renewal thread carries `"run": N`; other lines (the warm pool's own threads, Celery's
messages about the task) carry `"run": null`. Fields: ts (UTC, ISO 8601), level,
process (the worker's name, or "web"), run, logger, msg, and exc (the traceback) when
there is one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_RUN: ContextVar[int | None] = ContextVar("judge_run", default=None)


@contextmanager
def judging(run_id: int) -> Iterator[None]:
    """Tag every log line in the block with `run_id`."""
    token = _RUN.set(run_id)
    try:
        yield
    finally:
        _RUN.reset(token)


class JsonLines(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process,
            "run": _RUN.get(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(process: str, level: int = logging.INFO) -> None:
    """Send this process's log records to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
