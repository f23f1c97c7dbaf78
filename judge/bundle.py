"""What contestants may take home: one problem's practice folder, or a zip of several.

A practice folder holds the statement, the starter, `problem.json` (limits, output
contract, metric and threshold) and public data, which the problem's kind writes
(judge.kinds): for train-predict, a practice draw apart from the judge's (training rows,
test inputs and their labels; the hidden labels are never written). Reference solutions
and the hidden split never leave the judge. Folders and zips are built in a staging
place and renamed into position, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from judge.bank import Bank
from judge.data import Secret
from judge.errors import UsageError
from judge.kinds import get_kind
from judge.spec import SECTIONS, Problem

BUNDLE_README = """\
# {title}

Practice problems from the olympiad judge, one folder each:

{index}

Each folder holds `statement.md` (the task), `starter.py` (the program to fix or
improve), `problem.json` (limits, output contract, metric and pass threshold) and
`data/` (public practice data with its answers). Read the statement first. A quiz (a
drill) holds its statement with your items and `answers.yaml`, the answers file to fill in.

Score a file on the practice data before you submit it (with the judge installed):

    judge check <problem> starter.py --folder <problem>

It runs your file as the judge would (on your machine, without a sandbox) on
`data/`, against the answers there, and prints the verdict and per-part points it
would get on that data. The hidden data is another draw, so the real score differs a
little.

## Running a train-predict problem locally

    cd <problem>
    DATA_DIR=data OUTPUT_DIR=output python starter.py

`data/train_X.npy` and `data/train_y.npy` are training rows from the judge's own
distribution; `data/test_X.npy` is a practice draw of inputs and `data/test_y.npy`
their labels (your program never reads them: `judge check` scores with them). The
judge runs your program on fresh hidden inputs it never shows, so train from
scratch on whatever `DATA_DIR` holds and write the output file the statement names
into `OUTPUT_DIR`.

## Trying a function problem locally

`data/calls.json` lists practice calls: the function's name, `args` and `kwargs`;
`data/expected.json` the right answer to each, in the same order. For example:

    import json, starter
    for call in json.load(open("data/calls.json"))[:5]:
        print(getattr(starter, call["function"])(*call["args"], **call.get("kwargs", {{}})))

The judge calls your functions on hidden calls and compares with the expected values.

## What you need

Python 3.11 with numpy, pandas, scikit-learn, scipy and torch 2.13 (CPU). The judge
runs with no network and no GPU, under the limits in `problem.json`.
"""


def public_facts(problem: Problem) -> dict[str, object]:
    """The facts of a spec a contestant may see (never the dataset recipe or its parameters)."""
    spec = problem.spec
    facts: dict[str, object] = {
        "id": spec.id,
        "title": spec.title,
        "section": f"{spec.section}. {SECTIONS[spec.section]}",
        "kind": spec.kind,
        "difficulty": spec.difficulty,
        "metric": spec.metric.name,
        "direction": spec.metric.direction,
        "pass": spec.scoring.pass_,
        "max_points": spec.max_points,
    }
    if (
        spec.scoring.baseline is not None
    ):  # scaled points: share of (m - baseline)/(target - baseline)
        facts["baseline"], facts["target"] = spec.scoring.baseline, spec.scoring.target
    if spec.runs:
        facts["limits"] = spec.limits.model_dump()
    if parts := spec.scored_parts:
        facts["parts"] = [{"id": part.id, "points": part.points} for part in parts]
    if spec.output is not None:
        facts["output"] = spec.output.model_dump()
    if spec.function is not None:
        facts["functions"] = spec.function.names
    return facts


def write_practice_folder(
    problem: Problem, bank: Bank, secret: Secret, folder: Path, contestant: str | None = None
) -> None:
    """Write one problem's statement, starter, public facts and practice data into `folder`.

    contestant: whose statement (a quiz's items are drawn per contestant); None: the
    shared draw that `judge run` checks.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kind = get_kind(problem.spec.kind)
    statement = kind.statement(problem, bank, secret, contestant)
    (folder / "statement.md").write_text(statement, encoding="utf-8")
    shutil.copyfile(problem.starter, folder / problem.starter.name)
    facts = json.dumps(public_facts(problem), indent=2)
    (folder / "problem.json").write_text(facts + "\n", encoding="utf-8")
    if problem.spec.runs:
        (folder / "data").mkdir(exist_ok=True)
        kind.write_practice(problem, bank, secret, folder / "data")
        (folder / "output").mkdir(exist_ok=True)


@contextmanager
def _staging(dest: Path) -> Iterator[Path]:
    """A temporary folder beside `dest`, removed unless the caller renamed it away."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_problem(problem: Problem, bank: Bank, secret: Secret, dest: Path) -> None:
    """Write a practice folder at `dest`, which must not exist or be an empty folder."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} already exists and is not an empty folder; choose a new folder")
    with _staging(dest) as staging:
        write_practice_folder(problem, bank, secret, staging / "problem")
        if dest.exists():
            dest.rmdir()
        (staging / "problem").rename(dest)


def export_bundle(
    problems: list[Problem],
    bank: Bank,
    secret: Secret,
    dest: Path,
    contestant: str | None = None,
) -> list[str]:
    """Write a zip of practice folders and a README at `dest`; return the archive's members.

    contestant: whose quiz items the statements show (None: the shared draw).
    """
    if dest.suffix != ".zip":
        raise UsageError(f"{dest}: a bundle is a .zip file; name it like bundle.zip")
    if dest.exists():
        raise UsageError(f"{dest} already exists; choose a new file name")
    if not problems:
        raise UsageError("no problems to export")
    with _staging(dest) as staging:
        root = staging / dest.stem
        for problem in problems:
            write_practice_folder(problem, bank, secret, root / problem.id, contestant)
        index = "\n".join(f"- `{p.id}/`: {p.spec.title}" for p in problems)
        readme = BUNDLE_README.format(title="Olympiad judge practice bundle", index=index)
        (root / "README.md").write_text(readme, encoding="utf-8")
        archive = staging / dest.name
        members = []
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(root.rglob("*")):
                name = str(path.relative_to(staging))
                zipped.write(path, name)
                members.append(name)
        os.replace(archive, dest)
    return members
