"""Answers and brute-force checks for the quiz drill-4-optimizers.

One function per item (item id with '-' replaced by '_'): it takes the item's drawn params
and returns the right answer; its docstring is the explanation shown after submission.
`check_<name>` recomputes the same answer with real torch (imported inside the function).
"""

import math


def _run_sgd_constant_gradient(g, lr, mu, steps):
    """Return the trajectory of w (starting at 0) under torch SGD with loss g * w."""
    import torch

    w = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr, momentum=mu)
    trajectory = [0.0]
    for _ in range(steps):
        optimizer.zero_grad()
        (g * w).backward()
        optimizer.step()
        trajectory.append(w.item())
    return trajectory


def momentum_three_steps(p):
    """PyTorch's momentum buffer is b = g on the first step and b = {mu}·b + g afterwards (no (1 − momentum) factor), and each step subtracts lr·b. The buffers are g, (1 + {mu})·g and (1 + {mu} + {mu}²)·g, so w = −{lr}·{g}·(3 + 2·{mu} + {mu}²). Plain SGD would give −3·{lr}·{g}; the dampened form (1 − momentum)·g gives much less."""
    g, lr, mu = p["g"], p["lr"], p["mu"]
    return -lr * g * (3 + 2 * mu + mu * mu)


def check_momentum_three_steps(p):
    return _run_sgd_constant_gradient(p["g"], p["lr"], p["mu"], 3)[-1]


def momentum_limit_factor(p):
    """With a constant gradient the buffer b = g·(1 + {mu} + {mu}² + ...) tends to g / (1 − {mu}), so each step tends to lr·g / (1 − {mu}): momentum {mu} multiplies the effective learning rate by 1/(1 − {mu}) along a steady direction. This is why raising the momentum often needs a lower learning rate."""
    return int(round(1.0 / (1.0 - p["mu"])))


def check_momentum_limit_factor(p):
    lr, g = 0.01, 1.0
    trajectory = _run_sgd_constant_gradient(g, lr, p["mu"], 1500)
    last_step = trajectory[-2] - trajectory[-1]
    return int(round(last_step / (lr * g)))


def adam_first_step(p):
    """At step 1, m = 0.1·g and v = 0.001·g², and the bias corrections divide them by 1 − 0.9 and 1 − 0.999, so m̂ = g and v̂ = g². The step is lr·g / (|g| + eps) ≈ {lr}: Adam's first step has the size of the learning rate whatever the gradient's scale ({g} here). Without the corrections it would be about 3.16·lr; thinking like SGD gives lr·g."""
    g, lr = p["g"], p["lr"]
    return lr * g / (abs(g) + 1e-8)


def check_adam_first_step(p):
    import torch

    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=p["lr"])
    (p["g"] * w).backward()
    optimizer.step()
    return 1.0 - w.item()


def adam_bias_correction(p):
    """m and v are exponential moving averages started at 0, so early on they are pulled toward 0: after step 1, m = (1 − β1)·g and v = (1 − β2)·g². Dividing by 1 − β^t rescales them to unbiased estimates (m̂ = g, v̂ = g² at t = 1), and the factor goes to 1 as t grows. It is not a warmup: with a constant gradient, every Adam step, the first included, has size lr."""
    return "a"


def check_adam_bias_correction(p):
    """Run Adam on a constant gradient: the step sizes tell warmup (b) and decay (c) apart from a constant lr (a); (d) is false because eps still appears in the update."""
    import torch

    lr, beta1 = 0.01, 0.9
    w = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr, betas=(beta1, 0.999))
    steps = []
    for _ in range(50):
        before = w.item()
        optimizer.zero_grad()
        (3.0 * w).backward()
        optimizer.step()
        steps.append(before - w.item())
    m_after_first = (1 - beta1) * 3.0  # what m holds after step 1, before correction
    assert abs(m_after_first / (1 - beta1) - 3.0) < 1e-12
    if steps[-1] > steps[0] * 1.01:
        return "b"
    if steps[-1] < steps[0] * 0.99:
        return "c"
    return "a" if all(abs(s - lr) < 1e-6 for s in steps) else "d"


def adamw_zero_grad_step(p):
    """AdamW first multiplies the weight by (1 − lr·weight_decay), then applies the Adam update of the loss gradient, which is 0 here. The weight shrinks by {w0}·{lr}·{wd}. Forgetting the learning rate gives {w0}·{wd}; Adam's L2 version would instead move the weight by about lr, because λ·w enters the gradient and is normalised by √v̂."""
    return p["w0"] * p["lr"] * p["wd"]


def check_adamw_zero_grad_step(p):
    import torch

    w = torch.tensor(float(p["w0"]), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.AdamW([w], lr=p["lr"], weight_decay=p["wd"])
    (0.0 * w).backward()
    optimizer.step()
    return p["w0"] - w.item()


def adam_vs_adamw(p):
    """Adam's weight_decay is an L2 penalty: λ·w joins the gradient, goes through m and v and is divided by √v̂, so weights with large gradient history are barely decayed. AdamW (decoupled weight decay) shrinks w by (1 − lr·λ) and runs Adam on the plain gradient. With λ = 0 both are plain Adam. For SGD without momentum the L2 penalty and weight decay coincide exactly (w −= lr·(g + λ·w)); the difference appears only with adaptive optimizers."""
    return ["a", "b", "d", "f"]


def check_adam_vs_adamw(p):
    import torch

    h = torch.tensor([100.0, 0.01], dtype=torch.float64)  # one steep, one flat coordinate
    c = torch.tensor([1.0, -1.0], dtype=torch.float64)
    w0 = torch.tensor([2.0, 2.0], dtype=torch.float64)
    lr, lam, steps = 0.01, 0.1, 30

    def run(make, extra_l2=0.0):
        w = w0.clone().requires_grad_()
        optimizer = make([w])
        for _ in range(steps):
            optimizer.zero_grad()
            loss = 0.5 * (h * (w - c) ** 2).sum() + 0.5 * extra_l2 * (w**2).sum()
            loss.backward()
            optimizer.step()
        return w.detach()

    def manual_adamw():
        w, m, v = (
            w0.clone(),
            torch.zeros(2, dtype=torch.float64),
            torch.zeros(2, dtype=torch.float64),
        )
        for t in range(1, steps + 1):
            g = h * (w - c)
            w = w * (1 - lr * lam)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w = w - lr * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
        return w

    adam = run(lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=lam))
    adam_l2 = run(lambda ps: torch.optim.Adam(ps, lr=lr), extra_l2=lam)
    adamw = run(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=lam))
    adam_plain = run(lambda ps: torch.optim.Adam(ps, lr=lr))
    true = []
    # (a): Adam's decay is the L2 gradient term, and it decays the steep coordinate less than AdamW
    steep_pull_adam = (adam_plain - adam)[0].item()
    steep_pull_adamw = (adam_plain - adamw)[0].item()
    if torch.allclose(adam, adam_l2, atol=1e-12) and steep_pull_adam < steep_pull_adamw:
        true.append("a")
    if torch.allclose(adamw, manual_adamw(), atol=1e-10):
        true.append("b")
    if torch.allclose(adam, adamw, atol=1e-10):
        true.append("c")
    adam0 = run(lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=0.0))
    adamw0 = run(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=0.0))
    if torch.allclose(adam0, adamw0, atol=1e-12):
        true.append("d")
    w = w0.clone().requires_grad_()
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=lam)
    (0.0 * w).sum().backward()
    opt.step()
    if torch.allclose(w.detach(), w0 * (1 - lam), atol=1e-12):
        true.append("e")
    sgd_wd = run(lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=lam))
    sgd_l2 = run(lambda ps: torch.optim.SGD(ps, lr=lr), extra_l2=lam)
    if torch.allclose(sgd_wd, sgd_l2, atol=1e-12):
        true.append("f")
    return true


def warmup_cosine_lr(p):
    """Step {t} of {T}, warmup {W}: during the warmup (t < {W}) the rate is {base}·(t + 1)/{W}, reaching {base} at t = {W} − 1; afterwards the progress is q = (t − {W})/({T} − {W}) and the rate {base}·½·(1 + cos(π·q)), from {base} at q = 0 down to 0 at q = 1. Common slips: a warmup of {base}·t/{W} (one step late), measuring the cosine progress from 0 instead of from the end of the warmup, or cos in degrees."""
    base, w, total, t = p["base"], p["W"], p["T"], p["t"]
    if t < w:
        return base * (t + 1) / w
    return base * 0.5 * (1 + math.cos(math.pi * (t - w) / (total - w)))


def check_warmup_cosine_lr(p):
    """Chain PyTorch's own LinearLR and CosineAnnealingLR with SequentialLR."""
    import warnings

    import torch
    from torch.optim import lr_scheduler

    base, w, total = p["base"], p["W"], p["T"]
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=base)
    warmup = lr_scheduler.LinearLR(
        optimizer, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1
    )
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - w, eta_min=0.0)
    schedule = lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[w])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(p["t"]):
            optimizer.step()
            schedule.step()
    return optimizer.param_groups[0]["lr"]


def scheduler_per_batch_decays(p):
    """A scheduler counts its own step() calls, not epochs. Here it is called once per batch: {E} epochs × {N} batches = {E}·{N} calls, and StepLR halves the rate after every {S} calls, so floor({E}·{N}/{S}) times. The author meant floor({E}/{S}) halvings; call scheduler.step() once per epoch (after the batch loop) instead."""
    return (p["E"] * p["N"]) // p["S"]


def check_scheduler_per_batch_decays(p):
    import torch

    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=p["S"], gamma=0.5)
    for _epoch in range(p["E"]):
        for _batch in range(p["N"]):
            optimizer.step()
            scheduler.step()
    return int(round(-math.log2(optimizer.param_groups[0]["lr"])))
