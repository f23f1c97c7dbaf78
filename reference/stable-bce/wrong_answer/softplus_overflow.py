"""Wrong: the loss rewritten with softplus, but with exp of the raw logit.

-log sigmoid(z) = log(1 + e^-z) is right on paper, and so is the loss
log(1 + e^z) - z t. In float64, e^z overflows to inf past z = 709, so
log_sigmoid(-1000) is -inf and a logit of 1000 gives an infinite loss.
"""

import torch


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def log_sigmoid(z):
    """log(sigmoid(z)) of every logit in z, elementwise."""
    return -torch.log1p(torch.exp(-_t(z)))


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of the logits against targets in [0, 1]."""
    z, t = _t(logits), _t(targets)
    return (torch.log1p(torch.exp(z)) - z * t).mean()
