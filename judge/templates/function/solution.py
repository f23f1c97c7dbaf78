"""Reference: subtract the largest logit before exponentiating."""

import math


# TODO(setter): replace with your reference solution.
def softmax(logits):
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]
