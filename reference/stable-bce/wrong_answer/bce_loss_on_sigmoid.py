"""Wrong: nn.BCELoss's functional form on sigmoid probabilities.

log_sigmoid is right (F.logsigmoid), but F.binary_cross_entropy takes
probabilities, and its documentation says it clamps each log term to be at
least -100: past |z| of about 37 in float64, sigmoid(z) is exactly 1 and the
loss of a wrong, sure prediction is capped at 100 per element.
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
    return F.binary_cross_entropy(torch.sigmoid(_t(logits)), _t(targets))
