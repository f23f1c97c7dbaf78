"""Wrong: sums the micro-batch means without any scaling; k times too large a gradient
for a mean (right only for a sum).
"""

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

# ---- given: do not change -------------------------------------------------

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


# ---- the training loop -----------------------------------------------------


def accumulate(seed, batch_size, k, steps, lr, weight_decay, reduction):
    """Take `steps` SGD steps, each on the next batch_size rows, in k micro-batches each."""
    X, y = make_data(seed, batch_size, steps)
    model = make_model(seed, batch_size, k)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    for step in range(steps):
        xb = X[step * batch_size : (step + 1) * batch_size]
        yb = y[step * batch_size : (step + 1) * batch_size]
        optimizer.zero_grad()
        for x_micro, y_micro in zip(torch.tensor_split(xb, k), torch.tensor_split(yb, k)):
            loss = loss_fn(model(x_micro), y_micro)
            loss.backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])
