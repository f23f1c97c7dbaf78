"""Reference: class codes to 0-based indices and back, and cross-entropy for every target format.

nn.CrossEntropyLoss takes either class indices 0..C-1 of dtype long, shape (N,), or class
probabilities of the logits' shape (N, C) and a float dtype. So: a class's index is its
position in the model's class order (not its code, not its rank among the labels of one
batch); 1-based labels are shifted down; float labels are rounded to the nearest whole
number before the cast (a cast truncates 2.9999998 to 2); one-hot and soft rows are
passed as float probabilities (for one-hot this equals the index form; soft rows must not
be collapsed by an argmax).
"""

import torch
import torch.nn.functional as F


def encode_targets(labels, classes):
    """The 0-based index of each raw label in the class order `classes`."""
    position = {code: j for j, code in enumerate(classes)}
    return [position[label] for label in labels]


def decode_predictions(logits, classes):
    """The class code of the highest logit of each row."""
    best = torch.tensor(logits, dtype=torch.float64).argmax(dim=1)
    return [classes[j] for j in best.tolist()]


def _targets(targets, target_format):
    if target_format == "index":
        return torch.tensor(targets, dtype=torch.long)
    if target_format == "one_based":
        return torch.tensor(targets, dtype=torch.long) - 1
    if target_format == "float":
        return torch.tensor(targets, dtype=torch.float64).round().long()
    if target_format in ("one_hot", "soft"):
        return torch.tensor(targets, dtype=torch.float64)
    raise ValueError(f"unknown target format {target_format!r}")


def cross_entropy(logits, targets, target_format):
    """Mean cross-entropy of logits (N, C) against targets in the given format, in float64."""
    logits = torch.tensor(logits, dtype=torch.float64)
    return F.cross_entropy(logits, _targets(targets, target_format)).item()
