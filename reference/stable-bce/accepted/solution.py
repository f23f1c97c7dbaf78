"""Accepted: both functions through the log-sum-exp identity, never exponentiating a large number.

log sigmoid(z) = -log(1 + e^-z) = min(z, 0) - log(1 + e^-|z|), and the loss
-(t log sigmoid(z) + (1 - t) log sigmoid(-z)) simplifies to
max(z, 0) - z t + log(1 + e^-|z|). e^-|z| lies in (0, 1], so nothing overflows,
and log1p keeps the small term exact.
"""

import torch


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def _log1p_exp_neg_abs(z):
    return torch.log1p(torch.exp(-z.abs()))


def log_sigmoid(z):
    """log(sigmoid(z)) of every logit in z, elementwise."""
    z = _t(z)
    return torch.clamp(z, max=0.0) - _log1p_exp_neg_abs(z)


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of the logits against targets in [0, 1]."""
    z, t = _t(logits), _t(targets)
    return (torch.clamp(z, min=0.0) - z * t + _log1p_exp_neg_abs(z)).mean()
