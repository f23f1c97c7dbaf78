"""A configurable MLP, its parameter count, and what PyTorch sees of it.

The judge imports this file and calls count_parameters and registered_counts; you
may add helpers, but keep the names and signatures. Run the file itself
(python starter.py) for a small demonstration on random data.

sizes = [in_features, hidden_1, ..., hidden_k, out_features]. Every hidden layer is
Linear(bias=bias) -> BatchNorm1d (when batchnorm) -> ReLU; the output layer is a
plain Linear with a bias.
"""

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes, batchnorm=True, bias=True):
        super().__init__()
        self.linears = []
        self.norms = []
        for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
            self.linears.append(nn.Linear(d_in, d_out, bias=bias))
            self.norms.append(nn.BatchNorm1d(d_out) if batchnorm else nn.Identity())
        self.head = nn.Linear(sizes[-2], sizes[-1])

    def forward(self, x):
        for linear, norm in zip(self.linears, self.norms):
            x = torch.relu(norm(linear(x)))
        return self.head(x)


def count_parameters(sizes, batchnorm, bias):
    """The number of trainable parameters of MLP(sizes, batchnorm, bias), by formula."""
    total = 0
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        total += d_in * d_out  # the weight matrix
        if bias:
            total += d_out  # the bias vector
    return total


def registered_counts(sizes, batchnorm, bias):
    """What PyTorch itself reports about a fresh MLP(sizes, batchnorm, bias).

    [trainable parameter elements, state_dict entries, buffer elements,
     float64 elements of the state_dict after model.double()]
    """
    model = MLP(sizes, batchnorm, bias)
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    entries = len(model.state_dict())
    buffers = sum(b.numel() for b in model.buffers())
    model.double()
    doubles = sum(t.numel() for t in model.state_dict().values() if t.dtype == torch.float64)
    return [parameters, entries, buffers, doubles]


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    sizes = [10, 32, 32, 3]
    model = MLP(sizes, batchnorm=True, bias=False)
    print("count_parameters:", count_parameters(sizes, batchnorm=True, bias=False))
    print("registered_counts:", registered_counts(sizes, batchnorm=True, bias=False))

    x, y = torch.randn(256, 10), torch.randint(0, 3, (256,))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(201):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            print(f"step {step:3d}  training loss {loss.item():.4f}")
