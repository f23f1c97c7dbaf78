"""Read a training log and say what went wrong (or that nothing did).

A first attempt: it gets the obvious cases, but it misreads many logs, and it never
answers some of the eight labels at all. The judge imports this file and calls
diagnose(log) on hidden logs; keep the name and the signature. The statement's rules
are the definition of each label.

log is a dict: "classes" (K) and per-epoch lists "train_loss", "val_loss",
"train_acc", "val_acc", "grad_norm", "lr", all of the same length; a NaN or infinite
loss or gradient norm is written as None.
"""

import math


def _clean(values):
    """The logger writes NaN as None (JSON null): turn those back into float NaN."""
    return [float("nan") if v is None else float(v) for v in values]


def diagnose(log):
    """Return one of the eight labels for this training log."""
    train_loss = _clean(log["train_loss"])
    val_loss = _clean(log["val_loss"])
    train_acc, val_acc = log["train_acc"], log["val_acc"]

    if math.isnan(train_loss[-1]) or math.isnan(val_loss[-1]):
        return "nan"
    if train_loss[-1] > train_loss[0]:
        return "exploding"
    if val_acc[-1] > train_acc[-1] or val_loss[-1] < train_loss[-1]:
        return "leak"  # better on validation than on training: it has seen the answers
    if val_loss[-1] > min(val_loss):
        return "overfit"  # validation loss is no longer at its best
    if train_loss[-1] > 0.5 * math.log(log["classes"]):
        return "underfit"
    return "healthy"
