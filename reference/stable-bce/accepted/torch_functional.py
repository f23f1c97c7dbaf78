"""Accepted: PyTorch's own stable versions, in float64.

F.logsigmoid and F.binary_cross_entropy_with_logits (what nn.BCEWithLogitsLoss
calls) take logits and use the log-sum-exp trick inside.
"""

import torch
import torch.nn.functional as F


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def log_sigmoid(z):
    """log(sigmoid(z)) of every logit in z, elementwise."""
    return F.logsigmoid(_t(z))


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of the logits against targets in [0, 1]."""
    return F.binary_cross_entropy_with_logits(_t(logits), _t(targets))
