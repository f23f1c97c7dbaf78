"""Wrong: Conv2d keeps a partial last window (ceil division); PyTorch drops it (floor)."""

from __future__ import annotations


def _pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _conv_length(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    effective = dilation * (kernel - 1) + 1  # the span the kernel covers, holes included
    return -(-(size + 2 * padding - effective) // stride) + 1


def _pool_length(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    effective = dilation * (kernel - 1) + 1
    room = size + 2 * padding - effective
    if not ceil_mode:
        return room // stride + 1
    length = -(-room // stride) + 1  # ceil division
    # PyTorch drops a last window that would start in the right padding (or past it).
    if (length - 1) * stride >= size + padding:
        length -= 1
    return length


def conv2d_output_size(h, w, kernel_size, stride, padding, dilation):
    """Return [h_out, w_out] of torch.nn.Conv2d on an (h, w) input."""
    k, s, p, d = (_pair(v) for v in (kernel_size, stride, padding, dilation))
    return [_conv_length(size, k[i], s[i], p[i], d[i]) for i, size in enumerate((h, w))]


def maxpool2d_output_size(h, w, kernel_size, stride, padding, dilation, ceil_mode):
    """Return [h_out, w_out] of torch.nn.MaxPool2d; stride None means stride = kernel_size."""
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    return [
        _pool_length(size, k[i], s[i], p[i], d[i], bool(ceil_mode)) for i, size in enumerate((h, w))
    ]


def receptive_field(layers):
    """Return the receptive field (in input positions) of one output unit of the stack."""
    field, jump = 1, 1  # jump: input positions between neighbouring units of the current layer
    for layer in layers:
        field += (layer["kernel_size"] - 1) * layer["dilation"] * jump
        jump *= layer["stride"]
    return field
