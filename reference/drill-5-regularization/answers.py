"""Reference answers for drill-5-regularization (trusted setter code, never shown).

One function per quiz item (item id with '-' replaced by '_'); it takes the item's
drawn params and returns the right answer. Its docstring is the explanation shown
to a practising student, formatted with the same params. check_<name> recomputes the
answer with real torch.
"""

import math

BN_EPS = 1e-5


def batchnorm_eval_statistics(p):
    """In eval mode BatchNorm normalises with the running mean and running variance it
    accumulated during training, so a prediction does not depend on the other samples of
    the batch. The batch's own statistics are used (and the running ones updated) only in
    train mode. Forgetting model.eval() before predicting is the classic bug."""
    return "b"


def batchnorm_eval_output(p):
    """In eval mode the output is gamma * (x - running_mean) / sqrt(running_var + eps) + beta
    = {gamma} * ({x} - ({mu})) / sqrt({var} + 1e-5) + ({beta}). The other sample of the batch,
    {y}, plays no part: the batch's own mean and variance are used only in train mode,
    which would have mapped the two samples to about +-gamma + beta."""
    return p["gamma"] * (p["x"] - p["mu"]) / math.sqrt(p["var"] + BN_EPS) + p["beta"]


def check_batchnorm_eval_output(p):
    import torch

    bn = torch.nn.BatchNorm1d(1).double()
    with torch.no_grad():
        bn.running_mean.fill_(p["mu"])
        bn.running_var.fill_(p["var"])
        bn.weight.fill_(p["gamma"])
        bn.bias.fill_(p["beta"])
    bn.eval()
    x = torch.tensor([[float(p["x"])], [float(p["y"])]], dtype=torch.float64)
    with torch.no_grad():
        return float(bn(x)[0, 0])


def batchnorm_param_count(p):
    """BatchNorm2d({C}) learns one scale (weight, gamma) and one shift (bias, beta) per
    channel: 2 * {C} parameters. The running mean and variance (and num_batches_tracked)
    are buffers, not parameters: counting them gives the classic wrong 4 * {C} (or 4 * {C} + 1)."""
    return 2 * p["C"]


def check_batchnorm_param_count(p):
    import torch

    return sum(t.numel() for t in torch.nn.BatchNorm2d(p["C"]).parameters())


def train_eval_layers(p):
    """Only Dropout and BatchNorm change behaviour: Dropout stops dropping in eval mode and
    BatchNorm switches from batch statistics to its running statistics. LayerNorm normalises
    each sample over its own features and has no running statistics, so it is the same in
    both modes; ReLU and Conv2d have no mode at all."""
    return ["a", "d"]


def check_train_eval_layers(p):
    import torch

    torch.manual_seed(0)
    layers = {
        "a": torch.nn.BatchNorm2d(16),
        "b": torch.nn.LayerNorm(16),
        "c": torch.nn.ReLU(),
        "d": torch.nn.Dropout(p=0.3),
        "e": torch.nn.Conv2d(16, 16, kernel_size=3, padding=1),
    }
    x = torch.randn(4, 16, 6, 16) * 3 + 1
    different = []
    with torch.no_grad():
        for key, layer in layers.items():
            layer.train()
            out_train = layer(x)
            layer.eval()
            out_eval = layer(x)
            if not torch.allclose(out_train, out_eval):
                different.append(key)
    return different


def dropout_p_meaning(p):
    """p is the probability of DROPPING an element, not of keeping it: each element becomes 0
    with probability {p}. PyTorch uses inverted dropout, so the survivors are scaled by
    1/(1 - {p}) during training; that keeps every element's expected value unchanged, and in
    eval mode dropout is simply the identity."""
    return "c"


def check_dropout_p_meaning(p):
    import torch

    torch.manual_seed(0)
    out = torch.nn.Dropout(p=p["p"]).train()(torch.ones(200_000, dtype=torch.float64))
    zero_fraction = float((out == 0).double().mean())
    survivors = out[out != 0]
    scaled = torch.allclose(survivors, torch.full_like(survivors, 1 / (1 - p["p"])))
    if abs(zero_fraction - p["p"]) < 0.01 and scaled:
        return "c"
    return "?"


def dropout_expected_sum(p):
    """Each entry survives with probability 1 - {p} and is then scaled to {x} / (1 - {p}), so
    its expected value is (1 - {p}) * {x} / (1 - {p}) = {x}: inverted dropout leaves the
    expectation unchanged. The expected sum is {n} * {x}. The classic wrong answer,
    {n} * {x} * (1 - {p}), forgets the 1/(1 - p) scaling of the survivors."""
    return float(p["n"] * p["x"])


def check_dropout_expected_sum(p):
    import torch

    # read the survivors' value from a real nn.Dropout, then take the expectation exactly:
    # each entry is that value with probability 1 - p and 0 with probability p
    torch.manual_seed(0)
    out = torch.nn.Dropout(p=p["p"]).train()(
        torch.full((1000,), float(p["x"]), dtype=torch.float64)
    )
    survivor = float(out[out != 0][0])
    return p["n"] * ((1 - p["p"]) * survivor + p["p"] * 0.0)


def l2_penalty_step(p):
    """The gradient of {lam} * w**2 is 2 * {lam} * w, so the total gradient is
    {g} + 2 * {lam} * ({w}) and the step gives w = {w} - {lr} * ({g} + 2 * {lam} * ({w})).
    Forgetting the factor 2 is the classic slip: SGD's weight_decay=lambda corresponds to a
    penalty (lambda / 2) * w**2, not lambda * w**2."""
    return p["w"] - p["lr"] * (p["g"] + 2 * p["lam"] * p["w"])


def check_l2_penalty_step(p):
    import torch

    w = torch.tensor(float(p["w"]), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=p["lr"])
    data_loss = p["g"] * w  # a data loss whose gradient with respect to w is g
    loss = data_loss + p["lam"] * w**2
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(w.detach())


def weight_decay_equivalence(p):
    """torch.optim.SGD with weight_decay={wd} adds {wd} * w to every gradient before the step.
    That is the gradient of ({wd} / 2) * sum of w**2, hence option c; a penalty of {wd} * sum
    of w**2 would add 2 * {wd} * w. For SGD decay and L2 coincide; for Adam they do not, which
    is why AdamW applies decoupled weight decay."""
    return "c"


def check_weight_decay_equivalence(p):
    import torch

    torch.manual_seed(0)
    w0 = torch.randn(5, dtype=torch.float64)
    target = torch.randn(5, dtype=torch.float64)

    def step(weight_decay, penalty):
        w = w0.clone().requires_grad_(True)
        opt = torch.optim.SGD([w], lr=0.1, weight_decay=weight_decay)
        loss = ((w - target) ** 2).sum() + penalty(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return w.detach()

    reference = step(p["wd"], lambda w: 0.0)
    candidates = {
        "a": lambda w: p["wd"] * (w**2).sum(),
        "b": lambda w: p["wd"] * w.abs().sum(),
        "c": lambda w: p["wd"] / 2 * (w**2).sum(),
    }
    for key, penalty in candidates.items():
        if torch.allclose(step(0.0, penalty), reference, rtol=0, atol=1e-12):
            return key
    return "d"
