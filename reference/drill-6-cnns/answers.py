"""Reference answers for drill-6-cnns (trusted setter code, never shown).

One function per quiz item (item id with '-' replaced by '_'); it takes the item's
drawn params and returns the right answer. Its docstring is the explanation shown
to a practising student, formatted with the same params. check_<name> recomputes the
answer with real torch layers.
"""


def _conv_length(n, k, s, pad):
    return (n + 2 * pad - k) // s + 1


def conv_output_shape(p):
    """Along each spatial axis the output length is floor((n + 2*padding - kernel) / stride) + 1:
    floor(({H} + 2*{pad} - {k}) / {s}) + 1 for the height and floor(({W} + 2*{pad} - {k}) / {s}) + 1
    for the width. The batch size {B} is unchanged and the channel count becomes out_channels = {Cout}.
    Classic slips: adding the padding once instead of twice, and rounding up instead of down."""
    return [
        p["B"],
        p["Cout"],
        _conv_length(p["H"], p["k"], p["s"], p["pad"]),
        _conv_length(p["W"], p["k"], p["s"], p["pad"]),
    ]


def check_conv_output_shape(p):
    import torch

    conv = torch.nn.Conv2d(p["Cin"], p["Cout"], kernel_size=p["k"], stride=p["s"], padding=p["pad"])
    with torch.no_grad():
        return list(conv(torch.zeros(p["B"], p["Cin"], p["H"], p["W"])).shape)


def conv_param_count(p):
    """Each of the {Cout} filters has {Cin} x {k} x {k} weights plus one bias:
    {Cout} * ({Cin} * {k} * {k} + 1) parameters. Classic wrong answers: leaving out the {Cout}
    biases, or using {k} instead of {k} * {k} weights per input channel. The input's height and
    width play no part: the same filters slide over every position."""
    return p["Cout"] * (p["Cin"] * p["k"] * p["k"] + 1)


def check_conv_param_count(p):
    import torch

    conv = torch.nn.Conv2d(p["Cin"], p["Cout"], kernel_size=p["k"])
    return sum(t.numel() for t in conv.parameters())


def pool_output_shape(p):
    """nn.MaxPool2d's stride defaults to its kernel size, {k}, so the windows do not overlap and
    each side becomes floor((n - {k}) / {k}) + 1 = floor(n / {k}): floor({H} / {k}) and floor({W} / {k}).
    Batch and channels are unchanged; leftover rows and columns are dropped (ceil_mode=False).
    Classic slips: stride 1 (as for Conv2d), or rounding up."""
    return [p["B"], p["C"], p["H"] // p["k"], p["W"] // p["k"]]


def check_pool_output_shape(p):
    import torch

    pool = torch.nn.MaxPool2d(kernel_size=p["k"])
    return list(pool(torch.zeros(p["B"], p["C"], p["H"], p["W"])).shape)


def receptive_field(p):
    """Walk from the input: start at 1 with jump 1; each layer adds (kernel - 1) * jump and multiplies
    the jump by its stride. The first {n1} convolution(s) add {n1} * ({k} - 1), the pooling adds 1 and
    doubles the jump, and each of the {n2} convolution(s) after it adds ({k} - 1) * 2 on that coarser grid.
    The classic slip is to forget that layers after the pooling see the input through stride 2."""
    field, jump = 1, 1
    layers = [(p["k"], 1)] * p["n1"] + [(2, 2)] + [(p["k"], 1)] * p["n2"]
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def check_receptive_field(p):
    import torch

    # Build the stack with all-positive weights; AvgPool2d(2) has the same window geometry as
    # MaxPool2d(2) but sends gradient to every element of its window. The receptive field is
    # the extent of the input pixels that get a nonzero gradient from one output unit.
    layers = []
    for _ in range(p["n1"]):
        layers.append(torch.nn.Conv2d(1, 1, p["k"]))
    layers.append(torch.nn.AvgPool2d(2))
    for _ in range(p["n2"]):
        layers.append(torch.nn.Conv2d(1, 1, p["k"]))
    net = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.fill_(1.0)
                layer.bias.zero_()
    x = torch.zeros(1, 1, 64, 64, dtype=torch.float64, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(dim=1) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1)


def unet_concat_dim(p):
    """U-Net skips are concatenated along the channel dimension (dim=1 of (N, C, H, W)): each
    pixel of the decoder gets the encoder's high-resolution features next to the upsampled
    ones, so the next convolution's in_channels is the sum of the two channel counts.
    Concatenating along height or width would glue two images side by side."""
    return "channel"


def unet_concat_shape(p):
    """ConvTranspose2d with kernel 2 and stride 2 doubles each side, (n - 1) * 2 + 2 = 2n, and gives
    {Cu} channels: up(x) is ({B}, {Cu}, 2*{h}, 2*{h}). Concatenating along dim 1 adds the channel
    counts, {Cu} + {Cs}, and keeps everything else. The decoder's next conv therefore needs
    in_channels = {Cu} + {Cs}; the classic slip is to give it {Cu}, as if the skip were added."""
    return [p["B"], p["Cu"] + p["Cs"], 2 * p["h"], 2 * p["h"]]


def check_unet_concat_shape(p):
    import torch

    up = torch.nn.ConvTranspose2d(p["Cb"], p["Cu"], kernel_size=2, stride=2)
    with torch.no_grad():
        u = up(torch.zeros(p["B"], p["Cb"], p["h"], p["h"]))
        skip = torch.zeros(p["B"], p["Cs"], u.shape[2], u.shape[3])
        return list(torch.cat([u, skip], dim=1).shape)


def unet_odd_size(p):
    """MaxPool2d(2) rounds down: {H} becomes floor({H} / 2), and the stride-2 transposed convolution
    doubles that to {H} - 1. torch.cat needs equal sizes in every dimension except the one it
    concatenates along, so it raises a RuntimeError. Fix it by padding (or cropping) `up` to the
    skip's size, or by choosing input sizes divisible by 2 at every level."""
    return "d"


def check_unet_odd_size(p):
    import torch

    skip = torch.zeros(1, 32, p["H"], p["H"])
    down = torch.nn.MaxPool2d(2)(skip)
    mid = torch.nn.Conv2d(32, 64, 3, padding=1)(down)
    with torch.no_grad():
        up = torch.nn.ConvTranspose2d(64, 32, kernel_size=2, stride=2)(mid)
    try:
        torch.cat([up, skip], dim=1)
    except RuntimeError:
        if up.shape[2] == p["H"] - 1 and up.shape[3] == p["H"] - 1:
            return "d"
        return "c"
    return "a"
