"""Secrets, seeds, dataset recipes and the hidden split.

A recipe is a plain Python file `datasets/<name>.py`, loaded by path, defining

    def make(rng: numpy.random.Generator, n: int, **params) -> ...

For train-predict problems it returns {"X": array (n, ...), "y": array (n, ...)};
train and hidden rows are drawn in one call and then split, so both share one
distribution. For function problems it returns a list of n calls,
{"function": name, "args": [...], "kwargs": {...}} with JSON values.

Seeds come from HMAC-SHA256(secret, problem id, purpose[, contestant]) through
SeedSequence (256 bits), so the hidden split is unknowable without the secret and
reproducible with it. Purposes: "data" (train and hidden rows), "calls" (hidden
calls), "practice" (a separate public draw for local practice), "params" (recipe
parameters drawn from the secret) and "public-split" (which hidden rows or calls
score the public leaderboard; the rest are the private, final part).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judge.errors import SpecError
from judge.spec import ProblemSpec

log = logging.getLogger(__name__)

DEVELOPMENT_SECRET = b"olympiad-judge-development-secret-not-for-rounds"


@dataclass(frozen=True)
class Secret:
    """The judge's secret; its repr never shows the value."""

    value: bytes = field(repr=False)
    source: str

    @property
    def is_development(self) -> bool:
        return self.value == DEVELOPMENT_SECRET


def resolve_secret(env_value: str | None, secret_file: Path | None) -> Secret:
    """Pick the secret: the JUDGE_SECRET value, else the secret file, else the development one.

    The caller (CLI or service) reads the environment and warns on the development secret.
    """
    if env_value:
        return Secret(env_value.encode("utf-8"), "JUDGE_SECRET")
    if secret_file is not None and secret_file.is_file():
        text = secret_file.read_bytes().strip()
        if not text:
            raise SpecError(f"{secret_file}: secret file is empty; write a long random string")
        return Secret(text, str(secret_file))
    return Secret(DEVELOPMENT_SECRET, "built-in development secret")


def derive_seed(
    secret: Secret, problem_id: str, purpose: str, contestant: str | None = None
) -> np.random.SeedSequence:
    """Return the SeedSequence of one problem and purpose ("data", ...), per contestant if given."""
    fields = [problem_id, purpose] + ([] if contestant is None else [contestant])
    message = "\x00".join(fields).encode()
    digest = hmac.new(secret.value, message, hashlib.sha256).digest()
    return np.random.SeedSequence(int.from_bytes(digest, "big"))


def derive_secret(secret: Secret, label: str) -> Secret:
    """Return a secret derived from `secret` (validation's extra draws: "draw-1", ...)."""
    value = hmac.new(secret.value, f"derived\x00{label}".encode(), hashlib.sha256).hexdigest()
    return Secret(value.encode(), f"{secret.source} / {label}")


def _rng(
    spec: ProblemSpec, secret: Secret, purpose: str, contestant: str | None
) -> np.random.Generator:
    owner = contestant if spec.dataset.per_contestant else None
    return np.random.default_rng(derive_seed(secret, spec.id, purpose, owner))


def recipe_params(spec: ProblemSpec, secret: Secret) -> dict[str, Any]:
    """Return the recipe's keyword arguments: fixed params plus those drawn from the secret."""
    params = dict(spec.dataset.params)
    if spec.dataset.secret_params:
        rng = np.random.default_rng(derive_seed(secret, spec.id, "params"))
        for name, drawn in sorted(spec.dataset.secret_params.items()):
            if drawn.integer:
                params[name] = int(rng.integers(int(drawn.low), int(drawn.high), endpoint=True))
            else:
                params[name] = float(rng.uniform(drawn.low, drawn.high))
    return params


def public_count(spec: ProblemSpec) -> int:
    """How many hidden rows or calls form the public part (at least one, never all)."""
    n = spec.dataset.n_hidden
    return min(n - 1, max(1, round(spec.dataset.public_fraction * n)))


def public_indices(
    spec: ProblemSpec, secret: Secret, contestant: str | None = None
) -> NDArray[np.int64]:
    """Return the sorted indices of the hidden rows or calls scored on the public leaderboard."""
    rng = _rng(spec, secret, "public-split", contestant)
    chosen = rng.permutation(spec.dataset.n_hidden)[: public_count(spec)]
    return np.sort(chosen).astype(np.int64)


def load_recipe(datasets_dir: Path, name: str) -> Callable[..., Any]:
    """Load `datasets/<name>.py` by path and return its `make` function."""
    path = datasets_dir / f"{name}.py"
    if not path.is_file():
        raise SpecError(f"{path}: dataset recipe {name!r} not found")
    module_spec = importlib.util.spec_from_file_location(f"_judge_recipe_{name}", path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{path}: cannot load recipe")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise SpecError(f"{path}: recipe failed to import: {type(exc).__name__}: {exc}") from exc
    make = getattr(module, "make", None)
    if not callable(make):
        raise SpecError(f"{path}: recipe must define make(rng, n, **params)")
    return make  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TrainPredictData:
    """Public training rows, hidden inputs and the hidden labels (never in the sandbox)."""

    train_X: NDArray[Any]
    train_y: NDArray[Any]
    hidden_X: NDArray[Any]
    hidden_y: NDArray[Any]


@dataclass(frozen=True)
class FunctionCalls:
    """Hidden calls of a function problem: inputs only; expected values come from the reference."""

    calls: list[dict[str, Any]]


def _call_recipe(
    make: Callable[..., Any],
    params: dict[str, Any],
    rng: np.random.Generator,
    n: int,
    where: Path,
) -> Any:
    try:
        return make(rng, n, **params)
    except Exception as exc:
        raise SpecError(f"{where}: recipe crashed: {type(exc).__name__}: {exc}") from exc


def draw_train_predict(
    spec: ProblemSpec,
    datasets_dir: Path,
    secret: Secret,
    purpose: str = "data",
    contestant: str | None = None,
) -> TrainPredictData:
    """Draw train and hidden rows in one call and split them.

    purpose: "data" for judging; "practice" gives a separate draw for local practice.
    contestant: whose data, for problems drawn per contestant (ignored otherwise).
    """
    where = datasets_dir / f"{spec.dataset.recipe}.py"
    make = load_recipe(datasets_dir, spec.dataset.recipe)
    rng = _rng(spec, secret, purpose, contestant)
    n_train, n_hidden = spec.dataset.n_train, spec.dataset.n_hidden
    params = recipe_params(spec, secret)
    drawn = _call_recipe(make, params, rng, n_train + n_hidden, where)
    if not isinstance(drawn, dict) or not {"X", "y"} <= drawn.keys():
        raise SpecError(f"{where}: make() must return a dict with arrays 'X' and 'y'")
    X, y = np.asarray(drawn["X"]), np.asarray(drawn["y"])
    if len(X) != n_train + n_hidden or len(y) != len(X):
        raise SpecError(
            f"{where}: make() returned {len(X)} rows of X and {len(y)} of y, "
            f"expected {n_train + n_hidden}"
        )
    if X.dtype == object or y.dtype == object:
        raise SpecError(f"{where}: make() must return numeric arrays")
    wanted, classes = spec.label_shape, spec.class_count
    if y.shape[1:] != wanted:
        shown = ", ".join(["n", *map(str, wanted)])
        why = "the output contract" if classes is None else "class indices for probability rows"
        raise SpecError(f"{where}: make() returned y of shape {y.shape}; {why} needs ({shown})")
    if classes is not None and not (
        np.issubdtype(y.dtype, np.integer) and y.size > 0 and y.min() >= 0 and y.max() < classes
    ):
        raise SpecError(
            f"{where}: make() must return y as integer class indices in [0, {classes}) "
            f"for {spec.metric.name} on (n, {classes}) probabilities"
        )
    return TrainPredictData(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


def draw_function_calls(
    spec: ProblemSpec,
    datasets_dir: Path,
    secret: Secret,
    purpose: str = "calls",
    contestant: str | None = None,
) -> FunctionCalls:
    """Draw the hidden calls of a function problem ("practice": a separate, public draw)."""
    assert spec.function is not None
    where = datasets_dir / f"{spec.dataset.recipe}.py"
    make = load_recipe(datasets_dir, spec.dataset.recipe)
    rng = _rng(spec, secret, purpose, contestant)
    params = recipe_params(spec, secret)
    calls = _call_recipe(make, params, rng, spec.dataset.n_hidden, where)
    if not isinstance(calls, list) or len(calls) != spec.dataset.n_hidden:
        raise SpecError(f"{where}: make() must return a list of {spec.dataset.n_hidden} calls")
    for call in calls:
        if not isinstance(call, dict) or call.get("function") not in spec.function.names:
            raise SpecError(f"{where}: each call needs 'function', one of {spec.function.names}")
        try:
            json.dumps(call, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}: calls must be plain JSON values: {exc}") from exc
    return FunctionCalls(calls)


def write_public_train_predict(data: TrainPredictData, folder: Path, include_test: bool) -> None:
    """Write what a contestant may see: training rows and (when judging) hidden inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "train_X.npy", data.train_X, allow_pickle=False)
    np.save(folder / "train_y.npy", data.train_y, allow_pickle=False)
    if include_test:
        np.save(folder / "test_X.npy", data.hidden_X, allow_pickle=False)
    for path in folder.iterdir():
        os.chmod(path, 0o644)


def write_calls(calls: FunctionCalls, folder: Path) -> Path:
    """Write the hidden calls' inputs for the harness."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "calls.json"
    path.write_text(json.dumps(calls.calls), encoding="utf-8")
    path.chmod(0o644)
    return path
