"""The setter's check of early-stop-best's training log (the part "stops as described").

The statement asks the program to write OUTPUT_DIR/early_stopping.json:

    {"val_accuracy": [one number per epoch trained, in order], "best_epoch": int}

The check replays the statement's rule on the logged curve: a new best is a validation
accuracy strictly above every earlier one, and training stops at the end of the first
epoch that comes PATIENCE epochs after the latest best (else after MAX_EPOCHS). The log
must end exactly there, and best_epoch must be the epoch of the first best. A loop that
never resets its patience counter stops too early and fails here, whatever its
predictions score.
"""

from __future__ import annotations

import math
from pathlib import Path

from judge.errors import InvalidOutput
from judge.outputs import read_json_output

LOG = "early_stopping.json"
MAX_EPOCHS = 1000
PATIENCE = 200
MAX_BYTES = 256 << 10  # 1000 numbers need about 25 KB


def _curve(log: object) -> tuple[list[float], int]:
    """The logged curve and best epoch; InvalidOutput naming what is malformed."""
    if not isinstance(log, dict):
        raise InvalidOutput(f"{LOG} must hold an object with val_accuracy and best_epoch")
    missing = [key for key in ("val_accuracy", "best_epoch") if key not in log]
    if missing:
        raise InvalidOutput(f"{LOG} has no {missing[0]!r}")
    curve, best = log["val_accuracy"], log["best_epoch"]
    if not isinstance(curve, list) or not 1 <= len(curve) <= MAX_EPOCHS:
        raise InvalidOutput(f"{LOG}: val_accuracy must list 1 to {MAX_EPOCHS} numbers")
    for epoch, value in enumerate(curve):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOutput(f"{LOG}: val_accuracy[{epoch}] is not a number")
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InvalidOutput(f"{LOG}: val_accuracy[{epoch}] = {value} is not in [0, 1]")
    if isinstance(best, bool) or not isinstance(best, int):
        raise InvalidOutput(f"{LOG}: best_epoch must be an integer")
    return [float(value) for value in curve], best


def stops_as_described(output: Path) -> str | None:
    """None when the log follows the statement's stopping rule, else what is wrong."""
    curve, logged_best = _curve(read_json_output(output / LOG, MAX_BYTES))
    best_value, best_epoch, stop = -math.inf, -1, MAX_EPOCHS - 1
    for epoch, value in enumerate(curve):
        if value > best_value:
            best_value, best_epoch = value, epoch
        elif epoch - best_epoch >= PATIENCE:
            stop = epoch
            break
    else:
        stop = len(curve) - 1 if len(curve) == MAX_EPOCHS else -1
    if stop == -1:  # the log ends before the rule says stop
        last = len(curve) - 1
        return (
            f"training stopped after epoch {last}, only {last - best_epoch} epochs after "
            f"the best epoch {best_epoch}; with patience {PATIENCE} it stops after epoch "
            f"{best_epoch + PATIENCE} at the earliest"
        )
    if len(curve) != stop + 1:
        return (
            f"the log runs to epoch {len(curve) - 1}, but {PATIENCE} epochs without a new "
            f"best had passed after epoch {stop} (best epoch {best_epoch}): it should "
            "have stopped there"
        )
    if logged_best != best_epoch:
        return f"best_epoch is {logged_best}, but the best validation accuracy came at epoch {best_epoch}"
    return None
