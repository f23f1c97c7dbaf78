"""Reference answers for drill-7-training-loop (trusted setter code, never shown).

One function per quiz item (item id with '-' replaced by '_'); it takes the item's
drawn params and returns the right answer. Its docstring is the explanation shown
to a practising student, formatted with the same params. check_<name> recomputes the
answer with real torch.
"""

import math


def loop_order(p):
    """Clear the old gradients, run the forward pass, compute the loss, backpropagate, then step:
    opt.zero_grad(); out = model(x); loss = loss_fn(out, y); loss.backward(); opt.step().
    Zeroing between backward() and step() throws the fresh gradient away before it is used, and
    stepping before backward() updates with the previous (or no) gradient."""
    return "c"


def check_loop_order(p):
    import torch

    def final_loss_ratio(order):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1).double()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x = torch.randn(16, 3, dtype=torch.float64)
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
        loss_fn = torch.nn.MSELoss()
        with torch.no_grad():
            first = float(loss_fn(model(x), y))
        for _ in range(50):
            out = loss = None
            for call in order:
                if call == "zero":
                    opt.zero_grad()
                elif call == "forward":
                    out = model(x)
                elif call == "loss":
                    loss = loss_fn(out, y)
                elif call == "backward":
                    loss.backward()
                elif call == "step":
                    opt.step()
        with torch.no_grad():
            return float(loss_fn(model(x), y)) / first

    orders = {
        "a": ["forward", "loss", "backward", "zero", "step"],
        "b": ["forward", "loss", "step", "backward", "zero"],
        "c": ["zero", "forward", "loss", "backward", "step"],
        "d": ["zero", "forward", "loss", "step", "backward"],
    }
    # only the canonical order ever steps with a gradient: in a, b and d the gradient
    # has been cleared (set to None) whenever step() runs, so the loss never moves
    learned = [key for key, order in orders.items() if final_loss_ratio(order) < 0.01]
    return learned[0] if len(learned) == 1 else "?"


_MISSING_CALL = [
    ("sum of the gradients", "zero_grad"),
    ("is still None", "backward"),
    ("fresh, sensible gradient", "step"),
    ("evaluating the same checkpoint twice", "eval"),
    ("behaves normally in epoch 1", "train"),
]


def missing_call(p):
    """Your symptom was: {symptom} Each missing call has its own fingerprint: without zero_grad
    gradients accumulate over batches; without backward .grad stays None and step() skips every
    parameter; without step the gradients are fine but never applied; without eval Dropout is on
    during validation, so one checkpoint scores differently each time; without train the model
    stays in eval mode after the first validation, so Dropout is off from epoch 2 on."""
    found = [answer for key, answer in _MISSING_CALL if key in p["symptom"]]
    if len(found) != 1:
        raise ValueError(f"symptom not recognised: {p['symptom']!r}")
    return found[0]


def train_eval_placement(p):
    """model.eval() before each validation pass turns Dropout off and makes BatchNorm use its
    running statistics; model.train() must then switch them back at the start of every epoch.
    Calling train() only once before the loop is the classic bug: after the first validation
    the model stays in eval mode for the rest of training. torch.no_grad() only stops graph
    recording; it does not change the layers' mode."""
    return "b"


def no_grad_effects(p):
    """torch.no_grad() only turns autograd off: no graph is recorded (less memory, faster) and the
    outputs have requires_grad=False. It does not touch the module's mode, so in train mode
    Dropout still drops, BatchNorm still uses the batch statistics and still updates its running
    statistics. Validation needs both model.eval() and torch.no_grad()."""
    return ["a", "c"]


def check_no_grad_effects(p):
    import torch

    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 8)
    bn = torch.nn.BatchNorm1d(8)
    drop = torch.nn.Dropout(0.5)
    model = torch.nn.Sequential(lin, bn, drop).train()
    x = torch.randn(64, 8) * 3 + 2
    true = []
    with torch.no_grad():
        out = model(x)
        if out.grad_fn is None:
            true.append("a")
        if not (drop(torch.ones(1000)) == 0).any():
            true.append("b")
        if not out.requires_grad:
            true.append("c")
        h = lin(x)
        with_running = (h - bn.running_mean) / torch.sqrt(
            bn.running_var + bn.eps
        ) * bn.weight + bn.bias
        before = bn.running_mean.clone()
        if torch.allclose(bn(h), with_running, atol=1e-5):
            true.append("d")
        if torch.equal(bn.running_mean, before):
            true.append("e")
    return true


def steps_per_run(p):
    """One epoch has ceil({N} / {bs}) batches, the last one smaller, or floor({N} / {bs}) with
    drop_last=True, which drops that incomplete batch (here drop_last={dl}). Multiply by the
    {E} epochs. Using the floor when drop_last=False (or the ceiling when it is True) is the
    classic slip."""
    per_epoch = p["N"] // p["bs"] if p["dl"] == "True" else math.ceil(p["N"] / p["bs"])
    return per_epoch * p["E"]


def check_steps_per_run(p):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(
        TensorDataset(torch.zeros(p["N"], 1)),
        batch_size=p["bs"],
        shuffle=True,
        drop_last=p["dl"] == "True",
    )
    steps = 0
    for _ in range(p["E"]):
        for _batch in loader:
            steps += 1
    return steps


def val_loss_average(p):
    """Each batch loss is a mean over that batch, so weight it by the batch size:
    ({n1} * {l1} + {n2} * {l2}) / ({n1} + {n2}). The plain average of the two batch losses,
    ({l1} + {l2}) / 2, gives the {n2} samples of the small last batch as much weight as the
    {n1} of the first: accumulate loss.item() * batch_size and divide by the number of samples."""
    return (p["n1"] * p["l1"] + p["n2"] * p["l2"]) / (p["n1"] + p["n2"])


def check_val_loss_average(p):
    import torch

    # per-sample squared errors whose batch means are l1 and l2; MSE over all samples
    pred = torch.cat(
        [torch.full((p["n1"],), p["l1"] ** 0.5), torch.full((p["n2"],), p["l2"] ** 0.5)]
    ).double()
    return float(torch.nn.functional.mse_loss(pred, torch.zeros_like(pred)))


def best_weights_copy(p):
    """model.state_dict() returns tensors that share storage with the parameters. The optimizer
    updates the parameters in place, so `best` silently follows the live weights and
    load_state_dict(best) restores the last epoch's weights. Store a real copy:
    best = copy.deepcopy(model.state_dict())."""
    return "b"


def check_best_weights_copy(p):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    initial = model.weight.detach().clone()
    best = None
    for epoch in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if epoch == 0:
            best = model.state_dict()
            best_weight = model.weight.detach().clone()
    last = model.weight.detach().clone()
    model.load_state_dict(best)
    if torch.equal(model.weight, last):
        return "b"
    if torch.equal(model.weight, best_weight):
        return "a"
    if torch.equal(model.weight, initial):
        return "c"
    return "?"
