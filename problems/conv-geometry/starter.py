"""Shape calculator for Conv2d and MaxPool2d layers, and a stack's receptive field.

A first attempt: it gets many shapes right, but not all of them. Compare it with
what PyTorch really does (build the layer, feed it torch.zeros(1, 1, h, w) and
look at .shape) and fix it. The judge imports this file and calls the three
functions; you may add helpers, but keep the names and signatures.

kernel_size, stride, padding and dilation are each an int (the same for height
and width) or a list [for_height, for_width]; the pooling stride may be None.
"""


def _pair(value):
    """Turn 3 into (3, 3) and [3, 5] into (3, 5)."""
    if isinstance(value, int):
        return value, value
    return value[0], value[1]


def conv2d_output_size(h, w, kernel_size, stride, padding, dilation):
    """Return [h_out, w_out] of torch.nn.Conv2d(..., kernel_size, stride, padding, dilation)."""
    k, s, p = _pair(kernel_size), _pair(stride), _pair(padding)
    h_out = (h + 2 * p[0] - k[0]) // s[0] + 1
    w_out = (w + 2 * p[1] - k[1]) // s[1] + 1
    return [h_out, w_out]


def _pooled(size, kernel, stride, padding, ceil_mode):
    room = size + 2 * padding - kernel
    if not ceil_mode:
        return room // stride + 1
    length = -(-room // stride) + 1  # rounds up
    if (length - 1) * stride >= size + padding:  # the last window would start in the padding
        length -= 1
    return length


def maxpool2d_output_size(h, w, kernel_size, stride, padding, dilation, ceil_mode):
    """Return [h_out, w_out] of nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode)."""
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)  # MaxPool2d's default stride is kernel_size
    p = _pair(padding)
    return [_pooled(h, k[0], s[0], p[0], ceil_mode), _pooled(w, k[1], s[1], p[1], ceil_mode)]


def receptive_field(layers):
    """Return how many input positions (first to last) can affect one output unit of the stack.

    layers: a list of {"kernel_size": int, "stride": int, "dilation": int}, input side first.
    """
    field = 1
    jump = 1  # distance, in input positions, between neighbouring units of the current layer
    for layer in layers:
        field += (layer["kernel_size"] - 1) * jump
        jump *= layer["stride"]
    return field
