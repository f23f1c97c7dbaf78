"""Reference answers for drill-8-debugging (trusted setter code, never shown).

One function per quiz item (item id with '-' replaced by '_'); it takes the item's
drawn params and returns the right answer. Its docstring is the explanation shown
to a practising student, formatted with the same params. check_<name> recomputes the
answer with real torch.
"""

import math


def five_diagnostics(p):
    """The five diagnostics are: training and validation loss curves, the gradient norm per step,
    per-layer weight and activation statistics, overfitting a single batch, and a learning-rate
    check. Each one measures the run and points at a cause. Training longer, adding BatchNorm
    everywhere or reseeding are changes made in hope, not measurements."""
    return ["a", "c", "d", "f", "h"]


_SITUATIONS = [
    ("cheapest test", "overfit-batch"),
    ("dead units", "layer-stats"),
    ("from which epoch", "loss-curves"),
    ("jumped to inf", "grad-norms"),
    ("step size", "lr-check"),
]


def diagnostic_for_symptom(p):
    """The situation was: {situation} Each diagnostic answers one question: overfit-batch, can the
    model, loss and loop learn at all; layer-stats, which layer is dead, saturated or exploding;
    loss-curves, overfitting or underfitting and from when; grad-norms, did the updates blow up
    before the NaN or inf; lr-check, is the step size the problem."""
    found = [answer for key, answer in _SITUATIONS if key in p["situation"]]
    if len(found) != 1:
        raise ValueError(f"situation not recognised: {p['situation']!r}")
    return found[0]


def train100_val60(p):
    """Perfect training accuracy with much lower validation accuracy (and no leak) is overfitting:
    the model memorises the training set. Regularise: weight decay, dropout, augmentation or more
    data, and early stopping on the validation loss. Training longer, a bigger network or a
    larger learning rate fight underfitting and make this gap worse, or do nothing for it."""
    return ["b", "d", "e", "g"]


def loss_then_nan(p):
    """A loss that decreased for {e} epochs on clean, unchanging data did not meet a bad sample:
    every sample was already seen in the first epoch. The run diverged: an update was too large
    for this stage of training (or a gradient spiked), weights or logits overflowed, or an unsafe
    operation such as log(0) met a saturated output. Log gradient norms to see the blow-up, then
    lower the learning rate, clip gradients, and use stable losses on logits."""
    return "d"


def nan_first_knob(p):
    """With clean data and a stable loss, a NaN early in training almost always means the steps are
    too large: the weights overshoot, activations overflow, and inf becomes NaN. Lower the learning
    rate (by 10x) first. A bigger batch, dropout, more epochs or a larger initialisation do not
    address the step size; a larger initialisation makes overflow more likely."""
    return "c"


def initial_loss_check(p):
    """With equal logits softmax gives every class probability 1/{K}, so the cross-entropy is
    -ln(1/{K}) = ln {K}. A first loss far above ln {K} means the initial logits are too large
    (initialisation or input scaling is off); that is worth fixing before any tuning."""
    return math.log(p["K"])


def check_initial_loss_check(p):
    import torch

    logits = torch.zeros(4, p["K"], dtype=torch.float64)
    targets = torch.tensor([0, p["K"] - 1, p["K"] // 2, 1], dtype=torch.long)
    return float(torch.nn.CrossEntropyLoss()(logits, targets))


def clip_grad_norm(p):
    """clip_grad_norm_ computes the total norm of all gradients together, sqrt(({g1})**2 + ({g2})**2).
    If it exceeds max_norm = {m}, every gradient is multiplied by the same factor
    {m} / (total norm + 1e-6), which keeps the gradient's direction; otherwise the gradients are
    left as they are. Clipping each entry to +-{m} is clip_grad_value_, a different function."""
    total = math.sqrt(p["g1"] ** 2 + p["g2"] ** 2)
    coef = min(1.0, p["m"] / (total + 1e-6))
    return p["g1"] * coef


def check_clip_grad_norm(p):
    import torch

    a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    a.grad = torch.tensor(float(p["g1"]), dtype=torch.float64)
    b.grad = torch.tensor(float(p["g2"]), dtype=torch.float64)
    torch.nn.utils.clip_grad_norm_([a, b], max_norm=p["m"])
    return float(a.grad)


def clip_position(p):
    """Clipping rescales the gradients that loss.backward() has just computed, and only then may
    optimizer.step() use them: clip between backward() and step(). Before backward() the gradients
    are cleared or stale, right after zero_grad() there is nothing to clip, and after step() the
    update has already been applied."""
    return "b"


def check_clip_position(p):
    import torch

    def big_step(position):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1).double()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        x = torch.randn(8, 4, dtype=torch.float64) * 100
        y = torch.zeros(8, 1, dtype=torch.float64)
        w0 = torch.cat([t.detach().flatten() for t in model.parameters()])

        def clip():
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.1)

        opt.zero_grad()
        if position == "d":
            clip()
        loss = torch.nn.functional.mse_loss(model(x), y)
        if position == "a":
            clip()
        loss.backward()
        if position == "b":
            clip()
        opt.step()
        if position == "c":
            clip()
        w1 = torch.cat([t.detach().flatten() for t in model.parameters()])
        return float((w1 - w0).norm())

    # with lr 1.0 and max_norm 0.1, a clipped step moves the weights by at most 0.1
    limited = [key for key in "abcd" if big_step(key) <= 0.1 + 1e-9]
    return limited[0] if len(limited) == 1 else "?"
