"""Wrong: keeps the probabilities away from 0 and 1 with a clamp.

The NaN and inf are gone, but a logit of 1000 with the wrong label now costs
-log(1e-7) = 16.1 instead of 1000, and log_sigmoid(-1000) reads -16.1: the loss
of a sure, wrong prediction is capped, so training stops pushing against it.
"""

import torch

EPS = 1e-7


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def _probabilities(z):
    return torch.sigmoid(_t(z)).clamp(EPS, 1 - EPS)


def log_sigmoid(z):
    """log(sigmoid(z)) of every logit in z, elementwise."""
    return torch.log(_probabilities(z))


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of the logits against targets in [0, 1]."""
    p, t = _probabilities(logits), _t(targets)
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
