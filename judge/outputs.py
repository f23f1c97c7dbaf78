"""Reading what a submission wrote, without trusting it.

Files are opened with O_NOFOLLOW and must be regular files under a size cap;
`.npy` is read with allow_pickle=False, CSV is parsed as numbers only, JSON with
bounded size. Anything wrong raises InvalidOutput (verdict IO), never a crash.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judge.errors import InvalidOutput
from judge.spec import OutputSpec


def read_untrusted_file(path: Path, max_bytes: int) -> bytes:
    """Return the bytes of a regular file, refusing symlinks, devices, FIFOs and big files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InvalidOutput(f"{path.name} was not written") from None
    except OSError as exc:
        if os.path.islink(path):
            raise InvalidOutput(f"{path.name} is a symlink; write a regular file") from None
        raise InvalidOutput(f"{path.name} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidOutput(f"{path.name} is not a regular file; write a regular file")
        if info.st_size > max_bytes:
            raise InvalidOutput(f"{path.name} is {info.st_size} bytes, over the {max_bytes} cap")
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise InvalidOutput(f"{path.name} grew over the {max_bytes} byte cap while read")
        return data
    finally:
        os.close(fd)


def _parse_npy(raw: bytes, name: str) -> NDArray[Any]:
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InvalidOutput(f"{name} holds pickled objects; save a numeric array") from None
        raise InvalidOutput(f"{name} is not a valid .npy file: {exc}") from None
    except Exception as exc:
        raise InvalidOutput(f"{name} is not a valid .npy file: {type(exc).__name__}") from None
    if not isinstance(array, np.ndarray):
        raise InvalidOutput(f"{name} is not a single .npy array")
    return array


def _parse_csv(raw: bytes, name: str) -> NDArray[Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidOutput(f"{name} is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidOutput(f"{name} is empty")
    try:
        float(lines[0].split(",")[0])
    except ValueError:
        lines = lines[1:]  # a header row
    try:
        rows = [[float(cell) for cell in line.split(",")] for line in lines]
    except ValueError:
        raise InvalidOutput(f"{name} has a cell that is not a number") from None
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise InvalidOutput(f"{name} has rows of different lengths")
    array = np.asarray(rows, dtype=np.float64)
    return array[:, 0] if array.ndim == 2 and array.shape[1] == 1 else array


def read_predictions(
    folder: Path, contract: OutputSpec, n_rows: int, max_bytes: int
) -> NDArray[Any]:
    """Read and check the predictions file named by the output contract."""
    name = contract.file
    raw = read_untrusted_file(folder / name, max_bytes)
    array = _parse_npy(raw, name) if name.endswith(".npy") else _parse_csv(raw, name)
    expected = tuple(n_rows if d == "n" else d for d in contract.shape)
    if array.ndim == len(expected) + 1 and array.shape[-1] == 1:
        array = array.reshape(array.shape[:-1])
    if array.shape != expected:
        raise InvalidOutput(f"{name} has shape {array.shape}, expected {expected}")
    if array.dtype.kind not in "biuf":
        raise InvalidOutput(f"{name} has dtype {array.dtype}, expected numbers")
    values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise InvalidOutput(f"{name} contains NaN or infinite values")
    if contract.dtype == "int":
        if not np.all(values == np.round(values)):
            raise InvalidOutput(f"{name} must hold integer class labels")
        if np.any(np.abs(values) > 2**31):
            raise InvalidOutput(f"{name} holds integers out of range")
        return values.astype(np.int64)
    return values


def read_json_output(path: Path, max_bytes: int) -> Any:
    """Parse a JSON file a submission wrote; InvalidOutput if it is not one under the cap.

    Setters' checks (reference/<slug>/checks.py) read the files they check with this.
    """
    raw = read_untrusted_file(path, max_bytes)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidOutput(f"{path.name} is not valid JSON") from None


def read_function_results(folder: Path, n_calls: int, max_bytes: int) -> list[dict[str, Any]]:
    """Read the harness's results.json: one {"ok": bool, "value"|"error": ...} per call."""
    results = read_json_output(folder / "results.json", max_bytes)
    if not isinstance(results, list) or len(results) != n_calls:
        raise InvalidOutput(f"results.json must list {n_calls} results")
    if not all(isinstance(item, dict) and isinstance(item.get("ok"), bool) for item in results):
        raise InvalidOutput("results.json entries must be objects with a boolean 'ok'")
    return results
