"""Call a submission's functions on the hidden calls and write what they returned.

Runs inside the sandbox, copied there by the runner, as

    python -I function_harness.py SUBMISSION CALLS_JSON RESULTS_JSON

It imports the submission as a module, calls each named function with the call's
args and kwargs, and writes one {"ok": true, "value": ...} or {"ok": false,
"error": "..."} per call. It decides nothing: the judge compares the values
outside the sandbox. Standalone on purpose: the judge package is not in the sandbox.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import traceback
from typing import Any

MAX_ERROR = 300


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
    with open(calls_path, encoding="utf-8") as handle:
        calls = json.load(handle)
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
