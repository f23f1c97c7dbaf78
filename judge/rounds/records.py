"""What a round keeps, wherever it is kept: records, the manifest and the store protocol.

`Record` is one judgement of one submission; `Manifest` says who took part and what
was noticed as of the last judging call. Both cross a file, a process or a database
unchanged through `to_dict`/`from_dict`. `VerdictStore` is all that judging,
rejudging and publishing ask of storage: `judge.rounds.jsonl_store.JsonlStore` keeps
a round in a results folder; a SQL store can keep it in a database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from judge.verdicts import Result


@dataclass(frozen=True)
class Record:
    """One judgement of one submission of a round."""

    key: str
    contestant: str
    problem: str
    file: str
    sha256: str
    submitted_at: datetime
    judged_at: datetime
    result: Result
    rejudge: int = 0
    # How many judgements of these same bytes in a row ended in IE (this one included).
    ie_tries: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["submitted_at"] = self.submitted_at.isoformat()
        data["judged_at"] = self.judged_at.isoformat()
        data["result"] = self.result.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        values = dict(data)
        values["submitted_at"] = datetime.fromisoformat(values["submitted_at"])
        values["judged_at"] = datetime.fromisoformat(values["judged_at"])
        values["result"] = Result.from_dict(values["result"])
        return cls(**values)


@dataclass
class Manifest:
    """Who took part and what was noticed, as of the last judging call."""

    round: str
    submissions_dir: str
    contestants: list[str]
    missing: list[tuple[str, str]]
    notices: list[str] = field(default_factory=list)
    sandbox: str = ""
    secret_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        values = dict(data)
        values["missing"] = [tuple(pair) for pair in values["missing"]]
        return cls(**values)


class VerdictStore(Protocol):
    """The verdicts and the manifest of one round: records are appended, never rewritten."""

    def load(self) -> dict[str, Record]:
        """Return the latest record of every key: the last one appended wins."""
        ...

    def append(self, record: Record) -> None:
        """Keep one record durably before returning."""
        ...

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest whole."""
        ...

    def read_manifest(self) -> Manifest:
        """Return the manifest; UsageError when no round was judged into this store."""
        ...
