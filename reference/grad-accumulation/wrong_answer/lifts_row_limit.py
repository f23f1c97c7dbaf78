"""Wrong: the right numbers by lifting the model's row limit (model.max_rows = batch_size).

The statement forbids more than ceil(batch_size / k) rows through the model at once;
the judge reads `.max_rows` inside accumulate and gives 0 points, naming the line.
This is the reference's own full-batch run, handed in as a submission.

Reference: the full-batch step, computed without micro-batches at all.

Accumulation is only a way of getting the full-batch gradient when the full batch
does not fit; the right answer is the plain full-batch run, so the reference does
exactly that. It bypasses the row limit of the given model, which a submission must
not do, so it is kept apart from the labelled submissions (spec `function.reference`):
accepted/by_micro_batches.py is the accepted fix.
"""

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

FEATURES, HIDDEN, CLASSES = 5, 16, 3


def make_data(seed, batch_size, steps):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(steps * batch_size, FEATURES))
    y = rng.integers(0, CLASSES, size=steps * batch_size)
    return torch.from_numpy(X), torch.from_numpy(y)


class SmallNet(nn.Module):
    def __init__(self, max_rows):
        super().__init__()
        self.max_rows = max_rows
        self.body = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, CLASSES))

    def forward(self, x):
        if x.shape[0] > self.max_rows:
            raise MemoryError(f"a forward pass fits at most {self.max_rows} rows, got {x.shape[0]}")
        return self.body(x)


def make_model(seed, batch_size, k):
    torch.manual_seed(seed)
    return SmallNet(max_rows=-(-batch_size // k)).double()


def accumulate(seed, batch_size, k, steps, lr, weight_decay, reduction):
    X, y = make_data(seed, batch_size, steps)
    model = make_model(seed, batch_size, k)
    model.max_rows = batch_size  # the reference alone may use the full batch
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    for step in range(steps):
        xb = X[step * batch_size : (step + 1) * batch_size]
        yb = y[step * batch_size : (step + 1) * batch_size]
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])
