"""Reference: torch.nn.BatchNorm1d and torch.nn.LayerNorm themselves, in float64."""

from __future__ import annotations

import torch
from torch import nn

torch.set_num_threads(1)


def _t(value):
    return torch.tensor(value, dtype=torch.float64)


def _batchnorm(x, running_mean, running_var, momentum, eps, training):
    layer = nn.BatchNorm1d(len(running_mean), eps=eps, momentum=momentum).double()
    with torch.no_grad():
        layer.running_mean.copy_(_t(running_mean))
        layer.running_var.copy_(_t(running_var))
    layer.train(training)
    return layer


def batchnorm_forward(x, weight, bias, running_mean, running_var, momentum, eps, training):
    layer = _batchnorm(x, running_mean, running_var, momentum, eps, training)
    with torch.no_grad():
        layer.weight.copy_(_t(weight))
        layer.bias.copy_(_t(bias))
        return layer(_t(x))


def batchnorm_running_stats(x, running_mean, running_var, momentum, training):
    layer = _batchnorm(x, running_mean, running_var, momentum, 1e-5, training)
    with torch.no_grad():
        layer(_t(x))
    return torch.stack([layer.running_mean, layer.running_var])


def layernorm_forward(x, normalized_shape, weight, bias, eps):
    layer = nn.LayerNorm(normalized_shape, eps=eps).double()
    with torch.no_grad():
        layer.weight.copy_(_t(weight))
        layer.bias.copy_(_t(bias))
        return layer(_t(x))
