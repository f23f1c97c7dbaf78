"""A round's VerdictStore in a results folder: JSON lines, appended and synced one by one.

`results/<round>/verdicts.jsonl` holds one record per judgement. A record is
written (and fsynced) the moment its run is scored, so an interrupted batch loses
only the runs still in flight, and a second call skips every submission already
judged. The last record of a key wins (a rejudge appends, never rewrites). A line
torn by a crash is ignored and reported; the next append starts on a fresh line.

`results/<round>/round.json` is the manifest of the last `judge round judge`: the
contestants, who handed in nothing, the notices and where the submissions were.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from judge.errors import UsageError
from judge.rounds.records import Manifest, Record

log = logging.getLogger(__name__)

VERDICTS_FILE = "verdicts.jsonl"
MANIFEST_FILE = "round.json"


class JsonlStore:
    """The append-only verdict file and the manifest of one round's results folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / VERDICTS_FILE
        self.torn_lines = 0

    def load(self) -> dict[str, Record]:
        """Return the latest record of every key; torn or unreadable lines are skipped."""
        latest: dict[str, Record] = {}
        self.torn_lines = 0
        if not self.path.is_file():
            return latest
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = Record.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError) as exc:
                    self.torn_lines += 1
                    log.warning("%s:%d: unreadable record skipped (%s)", self.path, number, exc)
                    continue
                latest[record.key] = record
        return latest

    def append(self, record: Record) -> None:
        """Write one record and sync it to disk before returning."""
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record.to_dict(), allow_nan=False) + "\n"
        with self.path.open("ab") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                handle.write(b"\n")  # a crash tore the last line: start a fresh one
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{MANIFEST_FILE}.tmp"
        staging.write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
        os.replace(staging, self.folder / MANIFEST_FILE)

    def read_manifest(self) -> Manifest:
        """Read the manifest; UsageError when the round was never judged into this folder."""
        path = self.folder / MANIFEST_FILE
        try:
            return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise UsageError(
                f"{path}: no judged round here; run `judge round judge` first"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path}: unreadable manifest ({exc}); judge the round again"
            ) from None
