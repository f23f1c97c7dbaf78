"""Wrong: normalises with the unbiased variance too; BatchNorm normalises with the
biased batch variance and keeps the unbiased one only for running_var.
"""

import torch


def _t(value):
    return torch.tensor(value, dtype=torch.float64)


def _channel_dims(x):
    """The dimensions BatchNorm1d averages over: the batch, and the length if x is (N, C, L)."""
    return (0, 2) if x.dim() == 3 else (0,)


def _per_channel(v, x):
    """Reshape a (C,) vector so that it broadcasts against x, (N, C) or (N, C, L)."""
    return v.view(1, -1, 1) if x.dim() == 3 else v.view(1, -1)


def _batch_statistics(x):
    dims = _channel_dims(x)
    mean = x.mean(dim=dims)
    var = x.var(dim=dims, unbiased=True)
    return mean, var


def batchnorm_forward(x, weight, bias, running_mean, running_var, momentum, eps, training):
    """The output of BatchNorm1d(C, eps=eps, momentum=momentum) in train or eval mode."""
    x = _t(x)
    if training:
        mean, var = _batch_statistics(x)
    else:
        mean, var = _t(running_mean), _t(running_var)
    x_hat = (x - _per_channel(mean, x)) / torch.sqrt(_per_channel(var, x) + eps)
    return _per_channel(_t(weight), x) * x_hat + _per_channel(_t(bias), x)


def x_count(x):
    """How many values each channel's statistics average over."""
    x = _t(x)
    return x.numel() // x.shape[1]


def batchnorm_running_stats(x, running_mean, running_var, momentum, training):
    """[running_mean, running_var] of the layer after one forward pass on x."""
    running_mean, running_var = _t(running_mean), _t(running_var)
    if not training:
        return [running_mean.tolist(), running_var.tolist()]
    mean, var = _batch_statistics(_t(x))
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var  # unbiased
    return [new_mean.tolist(), new_var.tolist()]


def layernorm_forward(x, normalized_shape, weight, bias, eps):
    """The output of LayerNorm(normalized_shape, eps=eps) (elementwise affine)."""
    x = _t(x)
    dims = tuple(range(x.dim() - len(normalized_shape), x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, unbiased=False, keepdim=True)
    return _t(weight) * (x - mean) / torch.sqrt(var + eps) + _t(bias)
