"""The layering of STYLE.md, enforced: a module imports only from the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "judge"

# module (or package prefix) -> the judge modules it may import
ALLOWED: dict[str, set[str]] = {
    "judge": set(),
    "judge.errors": set(),
    "judge.verdicts": set(),
    "judge.text": set(),
    "judge.spec": {"judge.errors", "judge.verdicts"},
    "judge.sandbox": {"judge.errors", "judge.sandbox"},
    "judge.harness": set(),
    "judge.data": {"judge.errors", "judge.spec"},
    "judge.scoring": {"judge.errors", "judge.spec"},
    "judge.banned": {"judge.spec"},
    "judge.outputs": {"judge.errors", "judge.spec", "judge.text"},
    "judge.bank": {"judge.errors", "judge.spec", "judge.verdicts"},
    "judge.kinds": {
        "judge.bank",
        "judge.data",
        "judge.errors",
        "judge.kinds",
        "judge.outputs",
        "judge.sandbox",
        "judge.scoring",
        "judge.spec",
        "judge.text",
    },
    "judge.scorer": {"judge.errors", "judge.kinds", "judge.scoring", "judge.spec"},
    "judge.notebooks": {"judge.errors", "judge.text"},
    "judge.runner": {
        "judge.banned",
        "judge.kinds",
        "judge.text",
        "judge.bank",
        "judge.notebooks",
        "judge.data",
        "judge.errors",
        "judge.scorer",
        "judge.sandbox",
        "judge.scoring",
        "judge.spec",
        "judge.verdicts",
    },
    "judge.batch": {"judge.errors"},
    "judge.validate": {
        "judge.text",
        "judge.bank",
        "judge.batch",
        "judge.data",
        "judge.errors",
        "judge.harness",
        "judge.kinds",
        "judge.outputs",
        "judge.runner",
        "judge.sandbox",
        "judge.scoring",
        "judge.spec",
        "judge.verdicts",
    },
    "judge.bundle": {"judge.bank", "judge.data", "judge.errors", "judge.kinds", "judge.spec"},
    "judge.scaffold": {"judge.bank", "judge.errors", "judge.spec"},
    "judge.teaching": {"judge.bank", "judge.errors", "judge.spec"},
    "judge.rounds": {
        "judge.text",
        "judge.bank",
        "judge.batch",
        "judge.data",
        "judge.errors",
        "judge.rounds",
        "judge.runner",
        "judge.sandbox",
        "judge.spec",
        "judge.verdicts",
    },
    # What a web service shares with the command line: no runner, no sandbox, no files.
    "judge.rounds.records": {"judge.errors", "judge.verdicts"},
    "judge.rounds.jsonl_store": {"judge.errors", "judge.rounds.records"},
    "judge.rounds.standings": {"judge.rounds.records", "judge.rounds.roundfile", "judge.verdicts"},
    "judge.rounds.publish": {
        "judge.rounds.records",
        "judge.rounds.roundfile",
        "judge.rounds.standings",
        "judge.verdicts",
    },
    # The live service: a top layer beside the CLI; it may use everything below.
    "judge.service": {
        "judge.bank",
        "judge.kinds",
        "judge.batch",
        "judge.bundle",
        "judge.data",
        "judge.errors",
        "judge.rounds",
        "judge.runner",
        "judge.sandbox",
        "judge.service",
        "judge.spec",
        "judge.verdicts",
    },
    "judge.cli": {"judge"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rule_for(name: str) -> set[str]:
    for prefix in sorted(ALLOWED, key=len, reverse=True):
        if name == prefix or (prefix != "judge" and name.startswith(prefix + ".")):
            return ALLOWED[prefix]
    raise AssertionError(f"{name} has no layering rule; add it to ALLOWED")


def judge_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("judge"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("judge")}
    return found


# Templates are the contestant-facing code `judge new` writes, not judge modules.
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_module_imports_only_from_lower_layers(path: Path) -> None:
    name = module_name(path)
    allowed = rule_for(name)
    for imported in judge_imports(path):
        ok = any(imported == a or imported.startswith(a + ".") for a in allowed)
        assert ok, f"{name} imports {imported}, outside its layer"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_only_the_cli_reads_the_environment(path: Path) -> None:
    if module_name(path) in ("judge.cli", "judge.service.config"):
        return
    text = path.read_text()
    assert "os.environ[" not in text and "os.environ.get" not in text and "os.getenv" not in text
