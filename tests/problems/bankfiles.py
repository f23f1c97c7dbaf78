"""The bank's own files in tests: recipes, references and labelled submissions as modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from judge.bank import Bank
from judge.data import draw_function_calls, resolve_secret

ROOT = Path(__file__).resolve().parents[2]
BANK = Bank(ROOT)


def load_module(path: Path) -> ModuleType:
    """Import a file of the bank by path, under a name of its own."""
    name = "_bank_" + "_".join(path.relative_to(ROOT).with_suffix("").parts).replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe_module(name: str) -> ModuleType:
    """datasets/<name>.py as a module."""
    return load_module(BANK.datasets_dir / f"{name}.py")


def reference_module(slug: str) -> ModuleType:
    """The reference solution of a function problem (function.reference) as a module."""
    problem = BANK.problem(slug)
    assert problem.spec.function is not None
    return load_module(problem.reference_folder / problem.spec.function.reference)


def hidden_calls(slug: str, secret: str) -> list[dict[str, Any]]:
    """The hidden calls a function problem draws with the given secret."""
    spec = BANK.problem(slug).spec
    return draw_function_calls(spec, BANK.datasets_dir, resolve_secret(secret, None)).calls
