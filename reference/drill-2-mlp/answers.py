"""Answers and brute-force checks for the quiz drill-2-mlp.

One function per item (item id with '-' replaced by '_'): it takes the item's drawn params
and returns the right answer; its docstring is the explanation shown after submission.
`check_<name>` recomputes the same answer with real torch (imported inside the function).
"""

import math


def flatten_shape(p):
    """nn.Flatten() has start_dim=1: it keeps the batch dimension and flattens the rest, so ({B}, {Cin}, {H}, {W}) becomes ({B}, {Cin}*{H}*{W}). torch.flatten(x), by contrast, defaults to start_dim=0 and would also swallow the batch dimension."""
    return [p["B"], p["Cin"] * p["H"] * p["W"]]


def check_flatten_shape(p):
    import torch

    return list(torch.nn.Flatten()(torch.zeros(p["B"], p["Cin"], p["H"], p["W"])).shape)


def mlp_param_count(p):
    """Each Linear(i, o) has i*o weights and o biases: ({D}*{H1} + {H1}) + ({H1}*{H2} + {H2}) + ({H2}*{C} + {C}). ReLU and Dropout have no parameters. Forgetting the biases, or counting the Dropout probability, are the usual slips."""
    d, h1, h2, c = p["D"], p["H1"], p["H2"], p["C"]
    return d * h1 + h1 + h1 * h2 + h2 + h2 * c + c


def check_mlp_param_count(p):
    import torch.nn as nn

    model = nn.Sequential(
        nn.Linear(p["D"], p["H1"]),
        nn.ReLU(),
        nn.Linear(p["H1"], p["H2"]),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(p["H2"], p["C"]),
    )
    return sum(t.numel() for t in model.parameters() if t.requires_grad)


def collapsed_linear_params(p):
    """W2(W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): a composition of affine maps is one affine map from {D} inputs to {C} outputs, i.e. one nn.Linear({D}, {C}) with {D}*{C} + {C} parameters. However wide the hidden layer ({H}), without a nonlinearity in between the stack is no more expressive than this single layer."""
    return p["D"] * p["C"] + p["C"]


def check_collapsed_linear_params(p):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    first, second = nn.Linear(p["D"], p["H"]), nn.Linear(p["H"], p["C"])
    single = nn.Linear(p["D"], p["C"])
    with torch.no_grad():
        single.weight.copy_(second.weight @ first.weight)
        single.bias.copy_(second.weight @ first.bias + second.bias)
        x = torch.randn(16, p["D"])
        assert torch.allclose(second(first(x)), single(x), atol=1e-5)
    return sum(t.numel() for t in single.parameters())


def registered_container(p):
    """nn.Module registers only attributes that are Modules (or Parameters). A plain list or tuple of layers is invisible to it: the weights are missing from parameters(), stay behind on .to(device) and are not saved in state_dict(). nn.ModuleList is a Module holding the layers, so each one is registered (as layers.0, layers.1, ...)."""
    return "ModuleList"


def check_registered_container(p):
    import torch.nn as nn

    def build(container):
        class MLP(nn.Module):
            def __init__(self, sizes):
                super().__init__()
                self.layers = container([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])

        return MLP([4, 8, 2])

    containers = {"list": list, "tuple": tuple, "ModuleList": nn.ModuleList}
    registered = [
        name
        for name, make in containers.items()
        if len(list(build(make).parameters())) == 4 and len(build(make).state_dict()) == 4
    ]
    assert len(registered) == 1
    return registered[0]


def dead_relu_gradient(p):
    """ReLU's derivative is 0 wherever its input is negative. If w·x + b < 0 on every example, the loss gradient reaching w and b is 0 on every example, so SGD never moves them again: the unit is dead for good. A small nonzero slope for negative inputs is exactly what LeakyReLU adds to avoid this."""
    return "a"


def check_dead_relu_gradient(p):
    import torch

    torch.manual_seed(0)
    x = torch.randn(64, 5)
    w = torch.randn(5, requires_grad=True)
    b = torch.tensor(-100.0, requires_grad=True)  # w·x + b < 0 on every example
    v = torch.randn(())
    out = v * torch.relu(x @ w + b)
    torch.nn.functional.mse_loss(out, torch.randn(64)).backward()
    if torch.isnan(w.grad).any():
        return "d"
    return "a" if torch.count_nonzero(w.grad) == 0 and b.grad.item() == 0 else "b"


def dead_relu_causes(p):
    """A unit dies when its pre-activation is negative on all inputs. A huge update can throw a bias (or the weights) there, and a large negative bias init puts it there from the start. LeakyReLU is the cure, not a cause (its slope is never 0); standardised inputs and PyTorch's default small uniform init keep pre-activations centred near 0, so only a few units, if any, start dead."""
    return ["a", "b"]


def check_dead_relu_causes(p):
    """Train a small MLP in each scenario and call a unit dead when its incoming weights get exactly zero gradient over the whole training set; 'many' means more than 20% of the units."""
    import torch
    import torch.nn as nn

    def dead_fraction(scenario):
        torch.manual_seed(0)
        x = torch.randn(256, 10)  # standardised features, as in (d); (e) is the untouched baseline
        y = (x[:, 0] + x[:, 1] > 0).float().unsqueeze(1)
        act = nn.LeakyReLU(0.01) if scenario == "c" else nn.ReLU()
        first, last = nn.Linear(10, 32), nn.Linear(32, 1)
        if scenario == "b":
            with torch.no_grad():
                first.bias.fill_(-5.0)
        lr = 50.0 if scenario == "a" else 0.05
        params = list(first.parameters()) + list(last.parameters())
        optimizer = torch.optim.SGD(params, lr=lr)
        loss_fn = nn.BCEWithLogitsLoss()
        for _ in range(10):
            optimizer.zero_grad()
            loss_fn(last(act(first(x))), y).backward()
            optimizer.step()
        optimizer.zero_grad()
        loss_fn(last(act(first(x))), y).backward()
        return (first.weight.grad.abs().sum(dim=1) == 0).float().mean().item()

    return [k for k in "abcde" if dead_fraction(k) > 0.2]


def _softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def dead_relu_loss(p):
    """With every hidden unit at 0, the last layer outputs its bias for every input: the logit is the constant z = {b}, whatever the weights. BCEWithLogitsLoss is -log sigmoid(z) = log(1 + e^(-z)) on a label 1 and log(1 + e^z) on a label 0, so the mean is {q}*log(1 + e^(-{b})) + (1 - {q})*log(1 + e^({b})). With z = 0 this is ln 2 = 0.693 whatever the labels: a loss stuck at ln 2 is the signature of a dead network."""
    b, q = float(p["b"]), float(p["q"])
    return q * _softplus(-b) + (1 - q) * _softplus(b)


def check_dead_relu_loss(p):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    n = 100
    positives = int(round(p["q"] * n))
    y = torch.zeros(n, 1)
    y[:positives] = 1.0
    first, last = nn.Linear(3, 8), nn.Linear(8, 1)
    with torch.no_grad():
        first.bias.fill_(-1000.0)  # every hidden ReLU is dead
        last.bias.fill_(float(p["b"]))
    logits = last(torch.relu(first(torch.randn(n, 3))))
    return nn.BCEWithLogitsLoss()(logits, y).item()
