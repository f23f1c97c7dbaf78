"""Turn raw class labels into cross-entropy targets, and predictions back into labels.

The judge imports this file and calls the three functions below; you may add
helpers, but keep the names and signatures. Inputs arrive as nested lists;
returning tensors is fine. Losses are computed in float64.

classes lists the class codes in the order of the model's output units: unit j
of the logits scores the class classes[j].
"""

import torch
import torch.nn.functional as F


def encode_targets(labels, classes):
    """The target index of each raw label, for nn.CrossEntropyLoss."""
    return [label - 1 for label in labels]  # the annotation tool numbers classes from 1


def decode_predictions(logits, classes):
    """The predicted class code of each row of logits (N, C)."""
    best = torch.tensor(logits, dtype=torch.float64).argmax(dim=1)
    return (best + 1).tolist()  # undo encode_targets


def cross_entropy(logits, targets, target_format):
    """Mean cross-entropy of logits (N, C) against targets given in target_format.

    target_format is "index", "one_based", "float", "one_hot" or "soft".
    """
    logits = torch.tensor(logits, dtype=torch.float64)
    targets = torch.tensor(targets)
    if target_format in ("one_hot", "soft"):
        targets = targets.argmax(dim=1)  # the class of each row
    elif target_format == "float":
        targets = targets.long()  # the loss wants integer classes
    return F.cross_entropy(logits, targets).item()
