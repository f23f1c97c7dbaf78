"""Wrong: applies bias=False to the output layer too; only the hidden Linears lose their bias."""

import torch
from torch import nn


class MLP(nn.Module):
    """sizes[0] -> sizes[1] -> ... -> sizes[-1]; each hidden layer Linear -> [BatchNorm1d] -> ReLU."""

    def __init__(self, sizes, batchnorm=True, bias=True):
        super().__init__()
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
            self.linears.append(nn.Linear(d_in, d_out, bias=bias))
            self.norms.append(nn.BatchNorm1d(d_out) if batchnorm else nn.Identity())
        self.head = nn.Linear(sizes[-2], sizes[-1])

    def forward(self, x):
        for linear, norm in zip(self.linears, self.norms):
            x = torch.relu(norm(linear(x)))
        return self.head(x)


def count_parameters(sizes, batchnorm, bias):
    """Trainable parameters of MLP(sizes, batchnorm, bias), in closed form."""
    total = 0
    hidden = list(zip(sizes[:-2], sizes[1:-1]))
    for d_in, d_out in hidden:
        total += d_in * d_out + (d_out if bias else 0)
        if batchnorm:
            total += 2 * d_out  # gamma and beta; the running statistics are buffers
    total += sizes[-2] * sizes[-1] + (sizes[-1] if bias else 0)
    return total


def registered_counts(sizes, batchnorm, bias):
    """[parameter elements, state_dict entries, buffer elements, float64 elements after .double()]."""
    model = MLP(sizes, batchnorm, bias)
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    entries = len(model.state_dict())
    buffers = sum(b.numel() for b in model.buffers())
    model.double()
    doubles = sum(t.numel() for t in model.state_dict().values() if t.dtype == torch.float64)
    return [parameters, entries, buffers, doubles]
