"""Log-sigmoid and binary cross-entropy on logits, straight from the textbook.

The judge imports this file and calls the two functions below; you may add
helpers, but keep the names and signatures. Inputs arrive as lists of floats;
returning tensors is fine.

Both functions are right on the first examples anyone tries. They are not right
on every input the judge sends.
"""

import torch


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def log_sigmoid(z):
    """log(sigmoid(z)) of every logit in z, elementwise."""
    return torch.log(torch.sigmoid(_t(z)))


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of the logits against targets in [0, 1]."""
    p = torch.sigmoid(_t(logits))
    t = _t(targets)
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
