"""Noisy training logs, one of eight diagnoses each, as hidden calls of diagnose(log).

make(rng, n) -> list of n calls {"function": "diagnose", "args": [log], "kwargs": {}}

A log is a dict: "classes" (K, an int) and six per-epoch lists of the same length E
(12 to 40): "train_loss", "val_loss" (mean cross-entropy), "train_acc", "val_acc",
"grad_norm" (mean gradient norm of the epoch) and "lr". A NaN or infinite loss or
gradient norm is logged as None (JSON null); accuracies and learning rates are always
numbers. Values are rounded to 4 significant digits, as a logger would print them.

The labels come in equal shares (the first n % 8 labels get one more), in shuffled
order: "nan", "exploding", "flat", "leak", "overfit", "underfit",
"benign_val_above_train", "healthy". Each is drawn by its own generator with several
variants (a NaN in the last epoch or only in the middle, only in val_loss or only in
grad_norm; a flat loss at ln K or stuck at another value; healthy runs with a late
0.99 validation accuracy or a gradient spike; ...), then checked against the decision
rules of the statement WITH MARGINS: it must meet its own rule clearly and miss every
earlier rule clearly (see `_clear`), or it is drawn again. So a log is never near a
threshold, and a careful implementation of the statement's rules labels all of them
right. `draw_log(rng, label)` is the generator the tests use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

LABELS = (
    "nan",
    "exploding",
    "flat",
    "leak",
    "overfit",
    "underfit",
    "benign_val_above_train",
    "healthy",
)
CLASSES = (2, 3, 4, 5, 10, 20, 100)
MAX_TRIES = 200

Curve = np.ndarray
Log = dict[str, Any]


# ----- shapes shared by the generators -------------------------------------------------


def _epochs(rng: np.random.Generator) -> int:
    return int(rng.integers(12, 41))


def _decay(rng: np.random.Generator, E: int, start: float, end: float) -> Curve:
    """A curve from `start` down to about `end`, fast at first, as losses go."""
    t = np.arange(E) / (E - 1)
    tau = rng.uniform(0.12, 0.35)
    shape = (np.exp(-t / tau) - np.exp(-1 / tau)) / (1 - np.exp(-1 / tau))
    return end + (start - end) * shape


def _noisy(rng: np.random.Generator, curve: Curve, rel: float) -> Curve:
    return curve * (1.0 + rng.normal(0.0, rel, size=len(curve)))


def _accuracy(rng: np.random.Generator, loss: Curve, K: int, noise: float = 0.006) -> Curve:
    """An accuracy that goes with a cross-entropy: chance at ln K, near 1 at 0."""
    chance = 1.0 / K
    learned = np.clip(1.0 - loss / math.log(K), 0.0, 1.0) ** 0.6
    acc = chance + (1.0 - chance) * learned + rng.normal(0.0, noise, size=len(loss))
    return np.clip(acc, 0.0, 1.0)


def _grad_norm(rng: np.random.Generator, E: int) -> Curve:
    g0 = math.exp(rng.uniform(math.log(0.3), math.log(10.0)))
    return _noisy(rng, g0 * _decay(rng, E, 1.0, rng.uniform(0.4, 0.9)), 0.08)


def _lr(rng: np.random.Generator, E: int) -> Curve:
    lr0 = math.exp(rng.uniform(math.log(1e-4), math.log(0.1)))
    t = np.arange(E) / (E - 1)
    kind = rng.integers(4)
    if kind == 0:
        return np.full(E, lr0)
    if kind == 1:  # step decay at half and three quarters of the run
        return lr0 * np.where(t < 0.5, 1.0, np.where(t < 0.75, 0.1, 0.01))
    if kind == 2:  # cosine
        return lr0 * 0.5 * (1 + np.cos(np.pi * t))
    warm = np.minimum(1.0, (np.arange(E) + 1) / 3)  # 3 epochs of warmup, then cosine
    return lr0 * warm * 0.5 * (1 + np.cos(np.pi * t))


def _healthy_parts(rng: np.random.Generator, K: int, E: int) -> dict[str, Curve]:
    """Train and val losses of a run that learns and generalises (val above train)."""
    L0 = math.log(K)
    final = rng.uniform(0.05, 0.33)
    train = _decay(rng, E, L0 * rng.uniform(0.82, 0.97), L0 * final)
    gap = 1.0 + rng.uniform(0.1, 0.35) * (np.arange(E) / (E - 1)) ** 0.5
    val = _decay(rng, E, L0 * rng.uniform(0.8, 0.95), L0 * final * gap[-1])
    val = np.maximum(val, train * gap)
    return {"train": _noisy(rng, train, 0.012), "val": _noisy(rng, val, 0.012)}


def _pack(
    rng: np.random.Generator,
    K: int,
    train: Curve,
    val: Curve,
    train_acc: Curve | None = None,
    val_acc: Curve | None = None,
    grad: Curve | None = None,
    lr: Curve | None = None,
) -> Log:
    E = len(train)
    return {
        "classes": K,
        "train_loss": train,
        "val_loss": val,
        "train_acc": _accuracy(rng, train, K) if train_acc is None else train_acc,
        "val_acc": _accuracy(rng, val, K) if val_acc is None else val_acc,
        "grad_norm": _grad_norm(rng, E) if grad is None else grad,
        "lr": _lr(rng, E) if lr is None else lr,
    }


# ----- one generator per label ---------------------------------------------------------


def _gen_healthy(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    parts = _healthy_parts(rng, K, E)
    log = _pack(rng, K, parts["train"], parts["val"])
    if rng.random() < 0.3:  # one gradient spike, harmless
        log["grad_norm"][rng.integers(E // 3, E)] *= rng.uniform(2.0, 3.5)
    return log


def _gen_healthy_easy(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """An easy task: val accuracy reaches 0.99, but only after the first epochs."""
    L0 = math.log(K)
    train = _noisy(rng, _decay(rng, E, L0 * rng.uniform(0.85, 0.95), L0 * 0.004), 0.012)
    val = _decay(rng, E, L0 * rng.uniform(0.83, 0.93), L0 * 0.006)
    val = _noisy(rng, np.maximum(val, train * rng.uniform(1.15, 1.5)), 0.012)
    return _pack(rng, K, train, val)


def _gen_benign(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Dropout or augmentation at training time: the training loss reads higher than val."""
    L0 = math.log(K)
    clean = _decay(rng, E, L0 * rng.uniform(0.78, 0.9), L0 * rng.uniform(0.08, 0.28))
    penalty = rng.uniform(1.18, 1.4)
    train = _noisy(rng, clean * penalty, 0.012)
    val = _noisy(rng, clean * rng.uniform(0.98, 1.04), 0.012)
    val_acc = _accuracy(rng, val, K)
    train_acc = np.clip(val_acc - rng.uniform(0.005, 0.04, size=E), 0.0, 1.0)
    return _pack(rng, K, train, val, train_acc, val_acc)


def _gen_underfit(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Too small a model or too low a learning rate: both losses stay high."""
    L0 = math.log(K)
    end = rng.uniform(0.6, 0.86)
    if rng.random() < 0.5:  # still going down slowly, nearly straight
        t = np.arange(E) / (E - 1)
        train = L0 * (rng.uniform(0.96, 1.0) + (end - 0.98) * t**0.8)
    else:  # plateau high
        train = _decay(rng, E, L0 * rng.uniform(0.96, 1.0), L0 * end)
    train = _noisy(rng, train, 0.008)
    val = _noisy(rng, train * rng.uniform(1.0, 1.05), 0.008)
    return _pack(rng, K, train, val, lr=_lr(rng, E) * rng.choice([1.0, 1e-2]))


def _gen_overfit(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Train loss keeps falling; val loss has a minimum and then climbs."""
    L0 = math.log(K)
    train = _decay(rng, E, L0 * rng.uniform(0.8, 0.95), L0 * rng.uniform(0.005, 0.08))
    best = int(rng.integers(int(0.25 * E), int(0.6 * E)))
    v_min = L0 * rng.uniform(0.25, 0.5)
    down = _decay(rng, best + 1, L0 * rng.uniform(0.8, 0.95), v_min)
    rise = v_min * (1.0 + rng.uniform(0.5, 2.0) * (np.arange(1, E - best) / (E - best - 1)) ** 1.2)
    val = np.concatenate([down, rise])
    train, val = _noisy(rng, train, 0.012), _noisy(rng, val, 0.012)
    val_acc = _accuracy(rng, np.minimum(val, np.minimum.accumulate(val) * 1.1), K)
    return _pack(rng, K, train, val, val_acc=val_acc)


def _gen_leak(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Validation rows that are also training rows (or a label in the features)."""
    L0 = math.log(K)
    train = _noisy(rng, _decay(rng, E, L0 * rng.uniform(0.85, 0.97), L0 * 0.25), 0.012)
    val = _noisy(rng, np.full(E, L0 * rng.uniform(0.002, 0.02)), 0.1)
    val_acc = np.clip(1.0 - np.abs(rng.normal(0.0, 0.004, size=E)), 0.985, 1.0)
    return _pack(rng, K, train, val, val_acc=val_acc)


def _gen_flat(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Dead units, a zero learning rate or frozen weights: the loss never moves."""
    L0 = math.log(K)
    level = L0 if variant % 5 < 3 else L0 * rng.uniform(0.7, 0.95)  # 2 in 5 stuck elsewhere
    train = _noisy(rng, np.full(E, level), 0.002)
    val = _noisy(rng, np.full(E, level * rng.uniform(0.99, 1.01)), 0.002)
    chance = 1.0 / K if level == L0 else rng.uniform(1.0 / K, min(0.95, 2.0 / K + 0.2))
    train_acc = np.clip(chance + rng.normal(0.0, 0.004, size=E), 0.0, 1.0)
    val_acc = np.clip(chance + rng.normal(0.0, 0.004, size=E), 0.0, 1.0)
    cause = variant % 3
    lr = _lr(rng, E)
    if cause == 0:  # dead ReLUs: almost no gradient
        grad = _noisy(rng, np.full(E, math.exp(rng.uniform(math.log(1e-7), math.log(1e-4)))), 0.05)
    elif cause == 1:  # the learning rate is zero
        grad = _noisy(rng, np.full(E, rng.uniform(0.5, 5.0)), 0.05)
        lr = np.zeros(E)
    else:  # nothing is trainable, or the optimizer holds other parameters
        grad = _noisy(rng, np.full(E, rng.uniform(0.5, 5.0)), 0.05)
    return _pack(rng, K, train, val, train_acc, val_acc, grad, lr)


def _gen_exploding(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """Too high a learning rate: the loss and the gradients grow without bound."""
    L0 = math.log(K)
    start = int(rng.integers(1, E // 2))
    rate = rng.uniform(1.4, 3.0)
    healthy = _healthy_parts(rng, K, E)
    steps = np.maximum(0, np.arange(E) - start)
    grow = np.minimum(rate**steps, 1e5)
    train = healthy["train"] * grow
    val = healthy["val"] * grow * rng.uniform(1.0, 1.3)
    grad = _grad_norm(rng, E) * np.minimum(rate ** (1.5 * steps), 1e7)
    acc_loss = np.minimum(train, L0)  # once it blows up, it guesses
    log = _pack(rng, K, train, val, _accuracy(rng, acc_loss, K), _accuracy(rng, acc_loss, K))
    log["grad_norm"] = grad
    log["lr"] = np.full(E, math.exp(rng.uniform(math.log(0.3), math.log(10.0))))
    return log


def _gen_nan(rng: np.random.Generator, K: int, E: int, variant: int = 0) -> Log:
    """A NaN or inf somewhere: at the end, only in the middle, only in val or in grad_norm."""
    variant %= 4
    base = _gen_healthy(rng, K, E) if rng.random() < 0.7 else _gen_underfit(rng, K, E)
    log: Log = {
        key: (np.array(v, dtype=object) if key != "classes" else v) for key, v in base.items()
    }
    onset = int(rng.integers(2, E - 2))
    if variant == 0:  # diverged: everything NaN from some epoch on
        for key in ("train_loss", "val_loss", "grad_norm"):
            log[key][onset:] = None
        chance = 1.0 / K
        log["train_acc"][onset:] = chance
        log["val_acc"][onset:] = chance
    elif variant == 1:  # a bad epoch in the middle, then training went on (e.g. skipped steps)
        for key in ("train_loss", "grad_norm"):
            log[key][onset] = None
    elif variant == 2:  # only the validation loss overflowed (fp16 eval, one huge logit)
        width = int(rng.integers(1, 3))
        log["val_loss"][onset : onset + width] = None
    else:  # only an inf gradient norm, caught by the scaler
        log["grad_norm"][onset] = None
    return log


# ----- the decision rules, with margins ------------------------------------------------


def _first_clear(log: Log) -> str | None:
    """The label the statement's rules give this log, or None if a quantity is near a threshold.

    Every threshold test is made twice, at a stricter and a looser threshold; a log whose
    two answers differ is too close to call and is drawn again.
    """
    series = {k: log[k] for k in ("train_loss", "val_loss", "grad_norm")}
    if any(v is None for values in series.values() for v in values):
        return "nan"
    tl = np.asarray(log["train_loss"], float)
    vl = np.asarray(log["val_loss"], float)
    ta = np.asarray(log["train_acc"], float)
    va = np.asarray(log["val_acc"], float)
    g = np.asarray(log["grad_norm"], float)
    L0 = math.log(log["classes"])

    def decide(yes: bool, no: bool) -> bool | None:
        """yes: the test passes at the strict threshold; no: it fails at the loose one."""
        return True if yes else (False if no else None)

    tests: list[tuple[str, bool | None]] = [
        (
            "exploding",
            decide(
                tl.max() >= 3.0 * tl[0] or g.max() >= 20.0 * g[0],
                tl.max() < 1.5 * tl[0] and g.max() < 5.0 * g[0],
            ),
        ),
        (
            "flat",
            decide(
                bool(np.all(np.abs(tl - tl[0]) <= 0.012 * tl[0])),
                bool(np.any(np.abs(tl - tl[0]) > 0.06 * tl[0])),
            ),
        ),
        (
            "leak",
            decide(
                bool(np.all(va[:3] >= 0.98) and np.all(va[:3] - ta[:3] >= 0.15)),
                bool(np.any(va[:3] < 0.94) or np.any(va[:3] - ta[:3] < 0.05)),
            ),
        ),
        ("overfit", decide(vl[-1] >= 1.3 * vl.min(), vl[-1] < 1.1 * vl.min())),
        ("underfit", decide(tl[-1] >= 0.57 * L0, tl[-1] < 0.43 * L0)),
        (
            "benign_val_above_train",
            decide(
                vl[-3:].mean() <= 0.93 * tl[-3:].mean(), vl[-3:].mean() >= 1.04 * tl[-3:].mean()
            ),
        ),
    ]
    for label, outcome in tests:
        if outcome is None:
            return None
        if outcome:
            return label
    return "healthy"


def _clear(log: Log, label: str) -> bool:
    return _first_clear(log) == label


# ----- drawing -------------------------------------------------------------------------


def _round(value: Any) -> Any:
    if value is None:
        return None
    return float(f"{float(value):.4g}")


def _finish(log: Log) -> Log:
    out: Log = {"classes": int(log["classes"])}
    for key in ("train_loss", "val_loss", "train_acc", "val_acc", "grad_norm", "lr"):
        out[key] = [_round(v) for v in log[key]]
    return out


def draw_log(rng: np.random.Generator, label: str, variant: int = 0) -> Log:
    """Draw one rounded log whose clear diagnosis is `label` (variant picks a sub-kind)."""
    generators: dict[str, Callable[[np.random.Generator, int, int, int], Log]] = {
        "nan": _gen_nan,
        "exploding": _gen_exploding,
        "flat": _gen_flat,
        "leak": _gen_leak,
        "overfit": _gen_overfit,
        "underfit": _gen_underfit,
        "benign_val_above_train": _gen_benign,
        "healthy": _gen_healthy if variant % 3 else _gen_healthy_easy,
    }
    for _ in range(MAX_TRIES):
        K = int(rng.choice(CLASSES))
        E = _epochs(rng)
        log = _finish(generators[label](rng, K, E, variant))
        if _clear(log, label):
            return log
    raise RuntimeError(f"could not draw a clear {label!r} log in {MAX_TRIES} tries")


def make(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Draw n logs, the eight labels in equal shares, in shuffled order."""
    calls = []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        log = draw_log(rng, label, variant=i // len(LABELS))
        calls.append({"function": "diagnose", "args": [log], "kwargs": {}})
    order = rng.permutation(n)
    return [calls[i] for i in order]
