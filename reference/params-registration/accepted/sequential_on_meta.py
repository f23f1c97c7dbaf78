"""Accepted too: the MLP as one nn.Sequential, counted by building it on the meta device.

A different fix of the registration bug (nn.Sequential registers its children as
nn.ModuleList does, under other state_dict names), and a different route to the count:
tensors on the "meta" device have shapes but no storage, so even a model with billions
of parameters can be built and its parameters summed.
"""

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes, batchnorm=True, bias=True):
        super().__init__()
        layers = []
        for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(nn.Linear(d_in, d_out, bias=bias))
            if batchnorm:
                layers.append(nn.BatchNorm1d(d_out))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def count_parameters(sizes, batchnorm, bias):
    with torch.device("meta"):
        model = MLP(sizes, batchnorm, bias)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def registered_counts(sizes, batchnorm, bias):
    model = MLP(sizes, batchnorm, bias)
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    entries = len(model.state_dict())
    buffers = sum(b.numel() for b in model.buffers())
    model.double()
    doubles = sum(t.numel() for t in model.state_dict().values() if t.dtype == torch.float64)
    return [parameters, entries, buffers, doubles]
