"""The static check of banned APIs and loops: a submission's syntax tree against its rules.

Runs in the judge, before the submission runs, on its source text (no code of the
submission is executed). It resolves what each name refers to through the file's
imports, so these all count as uses of `torch.optim`:

    import torch.optim            from torch import optim        import torch as t; t.optim.SGD
    from torch.optim import SGD   getattr(torch, "optim")        __import__("torch.optim")
    importlib.import_module("torch.optim")                       sys.modules["torch.optim"]

while a local variable that merely shares a name (`optim = 0.1`) does not. What it
cannot resolve (getattr with a computed name on a module above a banned API, exec or
eval of a string, a star import) is returned as a flag for the setter and organiser:
never counted as a use, never silently allowed. An attribute rule (`.max_rows`) finds
the name on any object, read, written, or named in getattr/setattr; a computed name
there is a flag. A rule with `inside` applies in the named top-level functions and in
every top-level function they call, so a loop moved into a helper is still found
(methods of a class the file defines are not followed). The runtime guard inside the sandbox harness
(judge/harness/function_harness.py) catches what slips past.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from judge.spec import BanRule

LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
DYNAMIC_CALLS = frozenset({"exec", "eval", "compile"})
OBJECT_ACCESS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
IMPORTERS = frozenset({"__import__", "importlib.import_module", "importlib.__import__"})


@dataclass(frozen=True)
class Violation:
    """One banned use: where, what was used, and the rule it breaks."""

    line: int
    used: str
    rule: BanRule

    def describe(self, filename: str = "submission.py") -> str:
        why = f" ({self.rule.why})" if self.rule.why else ""
        return f"{filename} line {self.line}: {self.used} is banned here{why}"


@dataclass(frozen=True)
class Flag:
    """A dynamic access the static check cannot resolve: for the setter and organiser."""

    line: int
    what: str

    def describe(self, filename: str = "submission.py") -> str:
        return f"{filename} line {self.line}: {self.what}"


@dataclass(frozen=True)
class BanReport:
    """What the static check found in one file."""

    violations: tuple[Violation, ...] = ()
    flags: tuple[Flag, ...] = ()

    def breaking(self, rules: Iterable[BanRule]) -> list[Violation]:
        """The violations of any of `rules`."""
        wanted = list(rules)
        return [v for v in self.violations if any(v.rule == rule for rule in wanted)]


@dataclass(frozen=True)
class _Use:
    line: int
    name: str  # a resolved dotted name: "torch.optim.SGD"
    scope: str | None  # the top-level function it is in, or None at module level


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """Resolve `a.b.c` through the file's import aliases, or None when `a` is not an import."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _constant_string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Every name an import statement binds, anywhere in the file, to the dotted name it means."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, str | None]]:
    """Every node with the top-level function it belongs to (None: module level, classes)."""
    for statement in tree.body:
        scope = (
            statement.name
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
            else None
        )
        for node in ast.walk(statement):
            yield node, scope


class _Reader:
    def __init__(self, tree: ast.Module) -> None:
        self.aliases = _aliases(tree)
        self.uses: list[_Use] = []
        self.loops: list[tuple[int, str | None]] = []
        self.attributes: list[_Use] = []  # every `.name`, on any object
        self.computed: list[_Use] = []  # getattr/setattr/delattr with a computed name
        self.flags: list[Flag] = []
        self.calls: dict[str, set[str]] = {}  # top-level function -> top-level names it calls
        top_level = {
            s.name for s in tree.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for node, scope in _scopes(tree):
            self._read(node, scope, top_level)

    def _use(self, node: ast.AST, name: str, scope: str | None) -> None:
        self.uses.append(_Use(getattr(node, "lineno", 0), name, scope))

    def _read(self, node: ast.AST, scope: str | None, top_level: set[str]) -> None:
        if isinstance(node, LOOPS):
            self.loops.append((getattr(node, "lineno", 0), scope))
        if isinstance(node, ast.Attribute):
            self.attributes.append(_Use(node.lineno, node.attr, scope))
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._use(node, alias.name, scope)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name == "*":
                    self.flags.append(
                        Flag(node.lineno, f"from {node.module} import * (names unknown)")
                    )
                    self._use(node, node.module, scope)
                else:
                    self._use(node, f"{node.module}.{alias.name}", scope)
        elif isinstance(node, ast.Attribute | ast.Name) and isinstance(node.ctx, ast.Load):
            if (name := _dotted(node, self.aliases)) is not None:
                self._use(node, name, scope)
        elif isinstance(node, ast.Subscript):
            self._read_subscript(node, scope)
        elif isinstance(node, ast.Call):
            self._read_call(node, scope, top_level)

    def _read_subscript(self, node: ast.Subscript, scope: str | None) -> None:
        if _dotted(node.value, self.aliases) in ("sys.modules",):
            key = _constant_string(node.slice)
            if key is not None:
                self._use(node, key, scope)
            else:
                self.flags.append(Flag(node.lineno, "sys.modules[...] with a computed name"))

    def _read_call(self, node: ast.Call, scope: str | None, top_level: set[str]) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in top_level and scope is not None:
            self.calls.setdefault(scope, set()).add(func.id)
        called = func.id if isinstance(func, ast.Name) else _dotted(func, self.aliases)
        if isinstance(func, ast.Name) and func.id in DYNAMIC_CALLS:
            self.flags.append(Flag(node.lineno, f"{func.id}() runs code the check cannot read"))
        elif called in IMPORTERS or (isinstance(func, ast.Name) and func.id == "__import__"):
            module = _constant_string(node.args[0]) if node.args else None
            if module is None:
                self.flags.append(Flag(node.lineno, f"{called}() of a computed module name"))
                return
            self._use(node, module, scope)
            fromlist = node.args[3] if len(node.args) > 3 else None
            for keyword in node.keywords:
                if keyword.arg == "fromlist":
                    fromlist = keyword.value
            if isinstance(fromlist, ast.List | ast.Tuple):
                for element in fromlist.elts:
                    if (name := _constant_string(element)) is not None:
                        self._use(node, f"{module}.{name}", scope)
        if isinstance(func, ast.Name) and func.id in OBJECT_ACCESS and len(node.args) > 1:
            name = _constant_string(node.args[1])
            if name is not None:
                self.attributes.append(_Use(node.lineno, name, scope))
            else:
                self.computed.append(_Use(node.lineno, f"{func.id}()", scope))
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") and node.args:
            base = _dotted(node.args[0], self.aliases)
            if base is None:
                return
            attribute = _constant_string(node.args[1]) if len(node.args) > 1 else None
            if attribute is not None:
                self._use(node, f"{base}.{attribute}", scope)
            else:
                self._use(node, f"{base}.*", scope)

    def reach(self, roots: list[str]) -> set[str]:
        """The top-level functions `roots` and every one they call, transitively."""
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += sorted(self.calls.get(name, ()))
        return seen


def _matches(used: str, api: str) -> bool:
    """Whether a use of `used` is a use of `api` ("torch.optim.SGD" is one of "torch.optim")."""
    return used == api or used.startswith(api + ".")


def _above(used: str, api: str) -> bool:
    """Whether `used` is a computed attribute ("torch.*") of a module above `api`."""
    return used.endswith(".*") and api.startswith(used[:-1])


def check_source(source: str, rules: Iterable[BanRule]) -> BanReport:
    """Return the banned uses and unresolved dynamic accesses in `source` for `rules`.

    A file that does not parse has nothing to check: it fails when it runs.
    """
    rules = list(rules)
    if not rules:
        return BanReport()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return BanReport()
    reader = _Reader(tree)
    violations: list[Violation] = []
    flags = list(reader.flags)
    for rule in rules:
        where = reader.reach(rule.inside) if rule.inside else None
        if rule.api is not None:
            for use in reader.uses:
                if where is not None and use.scope not in where:
                    continue
                if _matches(use.name, rule.api):
                    violations.append(Violation(use.line, use.name, rule))
                elif _above(use.name, rule.api):
                    flags.append(Flag(use.line, f"getattr on {use.name[:-2]} with a computed name"))
        elif rule.attribute is not None:
            for use in reader.attributes:
                if use.name == rule.attribute and (where is None or use.scope in where):
                    violations.append(Violation(use.line, f".{use.name}", rule))
            for use in reader.computed:
                if where is None or use.scope in where:
                    flags.append(Flag(use.line, f"{use.name} with a computed attribute name"))
        else:
            for line, scope in reader.loops:
                if where is None or scope in where:
                    violations.append(Violation(line, "a loop", rule))
    first: dict[tuple[int, int], Violation] = {}  # one per line and rule: the longest name
    for violation in violations:
        key = (violation.line, rules.index(violation.rule))
        if key not in first or len(violation.used) > len(first[key].used):
            first[key] = violation
    unique_flags = sorted(set(flags), key=lambda flag: (flag.line, flag.what))
    return BanReport(tuple(sorted(first.values(), key=lambda v: v.line)), tuple(unique_flags))
