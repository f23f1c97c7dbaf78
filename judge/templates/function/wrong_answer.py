"""Wrong: clips the logits to [-50, 50], which changes the answer for large gaps."""

import math


# TODO(setter): replace with a plausible but wrong fix of your starter.
def softmax(logits):
    exps = [math.exp(min(50.0, max(-50.0, x))) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]
