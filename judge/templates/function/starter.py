"""Softmax of a list of logits."""

import math


# TODO(setter): replace with your starter: exactly the planted defect.
def softmax(logits):
    exps = [math.exp(x) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]
