"""The submissions of a round on disk: `DIR/<contestant>/<slug>[.<stamp>].py|.ipynb`
(a quiz's answers: `.yaml`, `.yml` or `.json`).

Each folder of DIR is a contestant. A file is named after its problem, optionally
with the time it was handed in (`missing-zero-grad.20261205T101500Z.py`); without a
stamp its modification time counts. Whatever does not fit is reported as a notice
and left out, never a crash: odd folder names, unknown problems, odd file names,
copies of an earlier file, files over the submission limit or outside the round.
A contestant with no file for a problem gets verdict NS for it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from judge.errors import UsageError
from judge.rounds.roundfile import Round

CONTESTANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FILE_NAME = re.compile(
    r"^(?P<slug>[a-z0-9][a-z0-9-]*)"
    r"(?:\.(?P<stamp>\d{8}T\d{6}Z?|\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}Z?))?"
    r"(?P<ext>\.(?:py|ipynb|yaml|yml|json))$"
)
HASH_CAP = 64 * 1024 * 1024  # larger files are refused by the runner anyway


@dataclass(frozen=True)
class Submission:
    """One file a contestant handed in for one problem."""

    contestant: str
    problem: str
    path: Path
    submitted_at: datetime
    sha256: str

    @property
    def key(self) -> str:
        """Unique within a round: the contestant and the file name."""
        return f"{self.contestant}/{self.path.name}"


@dataclass
class Discovery:
    """What was found under `folder`: the submissions to judge, who handed in nothing, notices."""

    folder: Path
    contestants: list[str] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (contestant, slug)
    notices: list[str] = field(default_factory=list)


def parse_stamp(text: str) -> datetime:
    """Turn 20261205T101500Z or 2026-12-05T10-15-00 into an aware UTC datetime."""
    digits = re.sub(r"\D", "", text)
    return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _fingerprint(path: Path) -> str:
    """sha256 of a regular file's bytes, never following a symlink ("" when unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        sha = hashlib.sha256()
        with os.fdopen(fd, "rb", closefd=False) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
                if handle.tell() > HASH_CAP:
                    break
        return sha.hexdigest()
    finally:
        os.close(fd)


def _file_time(path: Path, stamp: str | None) -> datetime:
    if stamp is not None:
        return parse_stamp(stamp)
    return datetime.fromtimestamp(path.lstat().st_mtime, tz=UTC)


def discover(round_: Round, folder: Path) -> Discovery:
    """Find every contestant's submissions under `folder`; UsageError if it is not a folder."""
    if not folder.is_dir():
        raise UsageError(
            f"{folder}: no such submissions folder (expected DIR/<contestant>/<slug>.py)"
        )
    found = Discovery(folder)
    slugs = set(round_.slugs)
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir() or entry.is_symlink():
            found.notices.append(f"{entry.name}: not a contestant folder; skipped")
            continue
        if not CONTESTANT.match(entry.name):
            found.notices.append(
                f"{entry.name!r}: contestant folder names may hold only letters, digits, "
                "'.', '_' and '-' (at most 64, starting with a letter or digit); skipped"
            )
            continue
        found.contestants.append(entry.name)
        _contestant_files(round_, entry, slugs, found)
    return found


def _contestant_files(round_: Round, folder: Path, slugs: set[str], found: Discovery) -> None:
    contestant = folder.name
    by_problem: dict[str, list[Submission]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue  # .ipynb_checkpoints and the like
        match = FILE_NAME.match(path.name)
        if not match:
            found.notices.append(
                f"{contestant}/{path.name}: not named <problem>[.<YYYYMMDDTHHMMSSZ>].py or "
                ".ipynb (a quiz: .yaml or .json); skipped"
            )
            continue
        slug = match["slug"]
        if slug not in slugs:
            found.notices.append(
                f"{contestant}/{path.name}: {slug!r} is not a problem of this round "
                f"({', '.join(round_.slugs)}); skipped"
            )
            continue
        suffixes = round_.problems[slug].spec.suffixes
        if match["ext"] not in suffixes:
            found.notices.append(
                f"{contestant}/{path.name}: {slug} takes a {' or '.join(suffixes)} file; skipped"
            )
            continue
        try:
            submitted = _file_time(path, match["stamp"])
        except ValueError:
            found.notices.append(f"{contestant}/{path.name}: the time stamp is not a date; skipped")
            continue
        item = Submission(contestant, slug, path, submitted, _fingerprint(path))
        by_problem.setdefault(slug, []).append(item)
    for slug in round_.slugs:
        items = sorted(by_problem.get(slug, []), key=lambda s: (s.submitted_at, s.path.name))
        kept = _in_time(round_, items, found)
        kept = _without_copies(kept, found)
        limit = round_.spec.limit_for(slug)
        for extra in kept[limit:]:
            found.notices.append(
                f"{extra.key}: over the limit of {limit} submission(s) for {slug}; not judged"
            )
        if not kept:
            found.missing.append((contestant, slug))
        found.submissions += kept[:limit]


def _in_time(round_: Round, items: list[Submission], found: Discovery) -> list[Submission]:
    start, end = round_.spec.start, round_.spec.end
    if start is None or end is None:
        return items
    kept = []
    for item in items:
        if item.submitted_at < start:
            found.notices.append(f"{item.key}: handed in before the round started; not judged")
        elif item.submitted_at > end:
            found.notices.append(f"{item.key}: handed in after the round ended; not judged")
        else:
            kept.append(item)
    return kept


def _without_copies(items: list[Submission], found: Discovery) -> list[Submission]:
    kept: list[Submission] = []
    seen: dict[str, Submission] = {}
    for item in items:
        earlier = seen.get(item.sha256) if item.sha256 else None
        if earlier is not None:
            found.notices.append(
                f"{item.key}: the same bytes as {earlier.path.name}; judged once, not counted twice"
            )
            continue
        for other in kept:
            if other.submitted_at == item.submitted_at:
                found.notices.append(
                    f"{item.key}: handed in at the same time as {other.path.name}; "
                    "both are judged, in name order"
                )
                break
        if item.sha256:
            seen[item.sha256] = item
        kept.append(item)
    return kept
