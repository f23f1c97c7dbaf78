"""`judge new`: scaffold a problem, its reference folder and its dataset recipe.

The scaffold is a small working problem of the chosen kind; every part the setter
must make their own carries a `TODO(setter)` marker, and validation fails, naming
file and line, until each marker is gone.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from string import Template
from typing import Literal

from judge.bank import Bank
from judge.errors import UsageError
from judge.spec import SLUG

TEMPLATES = Path(__file__).parent / "templates"
Kind = Literal["train-predict", "function"]


def scaffold_problem(bank: Bank, slug: str, kind: Kind) -> list[Path]:
    """Write the scaffold of problem `slug`; return the files written.

    Refuses (UsageError) a bad slug or one whose problem, reference or recipe exists.
    """
    if not SLUG.match(slug):
        raise UsageError(
            f"{slug!r} is not a valid slug: use 2-63 lowercase letters, digits and dashes"
        )
    if kind not in ("train-predict", "function"):
        raise UsageError(f"unknown kind {kind!r}; choose train-predict or function")
    recipe = slug.replace("-", "_")
    targets = {
        "statement.md": bank.problems_dir / slug / "statement.md",
        "starter.py": bank.problems_dir / slug / "starter.py",
        "spec.yaml": bank.problems_dir / slug / "spec.yaml",
        "solution.py": bank.reference_dir / slug / "accepted" / "solution.py",
        "wrong_answer.py": bank.reference_dir / slug / "wrong_answer" / "plausible_fix.py",
        "recipe.py": bank.datasets_dir / f"{recipe}.py",
        "shared/editorial.md": bank.reference_dir / slug / "editorial.md",
        "shared/hint.md": bank.reference_dir / slug / "hints" / "1.md",
    }
    for path in (bank.problems_dir / slug, bank.reference_dir / slug, targets["recipe.py"]):
        if path.exists():
            raise UsageError(f"{path} already exists; choose another slug")
    values = {"slug": slug, "recipe": recipe}
    written: list[Path] = []
    try:
        for template, target in targets.items():
            source = TEMPLATES / (template if "/" in template else f"{kind}/{template}")
            text = source.read_text(encoding="utf-8")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(Template(text).safe_substitute(values), encoding="utf-8")
            written.append(target)
    except BaseException:
        for folder in (bank.problems_dir / slug, bank.reference_dir / slug):
            shutil.rmtree(folder, ignore_errors=True)
        targets["recipe.py"].unlink(missing_ok=True)
        raise
    return written
