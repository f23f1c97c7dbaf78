"""Call a submission's functions on the hidden calls and write what they returned.

Runs inside the sandbox, copied there by the runner, as

    python -I function_harness.py SUBMISSION CALLS_JSON RESULTS_JSON

It imports the submission as a module, calls each named function with the call's
args and kwargs, and writes one {"ok": true, "value": ...} or {"ok": false,
"error": "..."} per call. It decides nothing: the judge compares the values
outside the sandbox. Standalone on purpose: the judge package is not in the sandbox.

The runtime guard: when the problem bans APIs, `banned.json` beside the calls lists
them, and before the submission is imported each banned module, function or
attribute is wrapped so that calling it from the submission's code (from the named
functions only, for a rule with `inside`) raises BannedAPI, which the call's result
reports as "BannedAPI: <name>". The library's own calls, with no frame of the
submission on the stack, go through. It backs the judge's static check
(judge/banned.py), which catches what is written; this catches what is computed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import sys
import traceback
from typing import Any

MAX_ERROR = 300
BANNED_FILE = "banned.json"


class BannedAPI(Exception):
    """A banned API was called from the submission."""


class _Guarded:
    """A banned object: attribute access is wrapped too; calling it from the submission raises."""

    def __init__(self, real: Any, name: str, inside: frozenset[str], submission: str) -> None:
        object.__setattr__(self, "_guard", (real, name, inside, submission))

    def _caught(self) -> bool:
        _, _, inside, submission = object.__getattribute__(self, "_guard")
        frame: Any = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            if code.co_filename == submission and (not inside or code.co_name in inside):
                return True
            frame = frame.f_back
        return False

    def __getattr__(self, attribute: str) -> Any:
        real, name, inside, submission = object.__getattribute__(self, "_guard")
        return _Guarded(getattr(real, attribute), f"{name}.{attribute}", inside, submission)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_guard")[0], attribute, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        real, name, _, _ = object.__getattribute__(self, "_guard")
        if _Guarded._caught(self):
            raise BannedAPI(name)
        return real(*args, **kwargs)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        real, name, _, _ = object.__getattribute__(self, "_guard")
        if _Guarded._caught(self):
            raise BannedAPI(name)
        return (real,)


def _import_longest(dotted: str) -> tuple[str, list[str]] | None:
    """Import the longest module prefix of `dotted`; return it and the attributes after it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        return ".".join(parts[:cut]), parts[cut:]
    return None


def install_guard(rules: list[dict[str, Any]], submission: str) -> None:
    """Wrap every banned API of `rules` (banned.json) before the submission is imported."""
    for rule in rules:
        api, inside = rule.get("api"), frozenset(rule.get("inside") or ())
        if not isinstance(api, str):
            continue
        found = _import_longest(api)
        if found is None:
            continue  # not installed here: nothing the submission could call
        module_name, attributes = found
        if attributes:  # a function or attribute of a module
            parent = sys.modules[module_name]
            for attribute in attributes[:-1]:
                parent = getattr(parent, attribute)
            real = getattr(parent, attributes[-1], None)
            if real is not None:
                setattr(parent, attributes[-1], _Guarded(real, api, inside, submission))
            continue
        for name in [n for n in sys.modules if n == module_name or n.startswith(module_name + ".")]:
            guarded = _Guarded(sys.modules[name], name, inside, submission)
            sys.modules[name] = guarded  # type: ignore[assignment]
            head, _, last = name.rpartition(".")
            if head in sys.modules:
                setattr(sys.modules[head], last, guarded)


def to_json_value(value: Any) -> Any:
    """Turn numbers, tensors, arrays, tuples and lists into plain JSON values."""
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # torch.Tensor
        value = value.detach().cpu().tolist()
    elif hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy array or scalar
        value = value.tolist()
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ValueError("returned a NaN or infinite number")
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    raise TypeError(f"returned a {type(value).__name__}, which is not a number, list or tensor")


def main(argv: list[str]) -> int:
    submission, calls_path, results_path = argv[1:4]
    submission = os.path.abspath(submission)
    with open(calls_path, encoding="utf-8") as handle:
        calls = json.load(handle)
    banned = os.path.join(os.path.dirname(calls_path), BANNED_FILE)
    if os.path.exists(banned):
        with open(banned, encoding="utf-8") as handle:
            install_guard(json.load(handle), submission)
    spec = importlib.util.spec_from_file_location("submission", submission)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)  # an import error is the submission's runtime error
    results = []
    for call in calls:
        name = call["function"]
        try:
            function = getattr(module, name)
            value = function(*call.get("args", []), **call.get("kwargs", {}))
            results.append({"ok": True, "value": to_json_value(value)})
        except Exception as exc:  # the submission's fault for this call only
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:MAX_ERROR]})
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, allow_nan=False)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
