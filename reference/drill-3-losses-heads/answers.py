"""Answers and brute-force checks for the quiz drill-3-losses-heads.

One function per item (item id with '-' replaced by '_'): it takes the item's drawn params
and returns the right answer; its docstring is the explanation shown after submission.
`check_<name>` recomputes the same answer with real torch (imported inside the function).
"""

import math


def head_loss_pairings(p):
    """Regression: one linear output per target ({R} here) with MSELoss; binary: one logit with BCEWithLogitsLoss and a sigmoid at prediction time. Multi-class ({K} exclusive classes): {K} raw logits with CrossEntropyLoss, which applies log_softmax itself, so a Softmax layer before it squashes the outputs twice. Multi-label ({K} tags): one sigmoid per tag, i.e. BCEWithLogitsLoss on a (batch, {K}) 0/1 target, since a softmax would make the tags compete for one unit of probability. A softmax over a single unit is always 1, so that binary head learns nothing."""
    return ["a", "c", "d", "g"]


_TASK_LOSS = {
    "predicts a flat's sale price from 12 features, with 1 output unit": "MSELoss",
    "predicts tomorrow's minimum and maximum temperature, with 2 output units": "MSELoss",
    "decides whether an email is spam, with 1 output unit": "BCEWithLogitsLoss",
    "decides whether a skin lesion on a photo is malignant, with 1 output unit": "BCEWithLogitsLoss",
    "tells which of the 10 digits a handwritten image shows, with 10 output units": "CrossEntropyLoss",
    "tells which one of 5 flower species a photo shows, with 5 output units": "CrossEntropyLoss",
    "marks every object present in a photo out of 20 possible tags, with 20 output units": "BCEWithLogitsLoss",
    "marks which of 8 genres apply to a film (a film can have several), with 8 output units": "BCEWithLogitsLoss",
}


def loss_for_task(p):
    """The model {task}. Real-valued targets take MSELoss; one yes/no decision, or several independent yes/no tags, take BCEWithLogitsLoss (a sigmoid per output, applied inside the loss); exactly one class out of several takes CrossEntropyLoss, which applies log_softmax itself. BCELoss is never right on raw scores: it expects probabilities in [0, 1]."""
    return _TASK_LOSS[p["task"]]


def mse_broadcast_shape(p):
    """Broadcasting aligns shapes from the right: ({N}, 1) against ({N},) is treated as ({N}, 1) against (1, {N}), and both stretch to ({N}, {N}). MSELoss then averages all {N}*{N} pairs prediction_i - target_j, so the model learns to predict the mean target. Fix: pred.squeeze(1) or y.unsqueeze(1)."""
    return [p["N"], p["N"]]


def check_mse_broadcast_shape(p):
    import torch

    return list((torch.zeros(p["N"], 1) - torch.zeros(p["N"])).shape)


def why_bce_with_logits(p):
    """BCEWithLogitsLoss computes log(1 + e^(-z)) and log(1 + e^z) with the log-sum-exp identity, so it is exact for any logit, and its gradient is sigmoid(z) - y, large exactly when the prediction is confidently wrong. Sigmoid then BCELoss rounds sigmoid(z) to exactly 0 or 1 once |z| is about 17 or more in float32; BCELoss then clamps the log at -100 and the gradient through the saturated sigmoid is 0, so the worst examples stop teaching. The model still outputs logits either way: apply torch.sigmoid when you need probabilities."""
    return ["a", "b", "e"]


def check_why_bce_with_logits(p):
    """(d) is about the model, not the loss (the model's outputs are whatever the last layer gives): it is false by definition and not simulated."""
    import torch

    true = []
    z = torch.tensor([1000.0, -1000.0, 30.0, -2.5])
    y = torch.tensor([0.0, 1.0, 0.0, 1.0])
    exact = torch.tensor(
        [1000.0, 1000.0, 30.0 + math.log1p(math.exp(-30.0)), math.log1p(math.exp(2.5))]
    )
    loss = torch.nn.BCEWithLogitsLoss(reduction="none")(z, y)
    if torch.allclose(loss, exact, rtol=1e-6):
        true.append("a")
    z30 = torch.tensor([30.0], requires_grad=True)
    torch.nn.BCELoss()(torch.sigmoid(z30), torch.tensor([0.0])).backward()
    if torch.sigmoid(torch.tensor(30.0)).item() == 1.0 and z30.grad.item() == 0.0:
        true.append("b")
    z_grid = torch.linspace(-40, 40, 81)
    y_grid = (torch.arange(81) % 2).float()
    stable = torch.nn.BCEWithLogitsLoss(reduction="none")(z_grid, y_grid)
    naive = torch.nn.BCELoss(reduction="none")(torch.sigmoid(z_grid), y_grid)
    if torch.allclose(stable, naive, rtol=1e-5):
        true.append("c")
    zg = z_grid.clone().requires_grad_()
    torch.nn.BCEWithLogitsLoss(reduction="sum")(zg, y_grid).backward()
    wrong = (zg.detach() > 0) != (y_grid > 0.5)
    if (
        torch.allclose(zg.grad, torch.sigmoid(z_grid) - y_grid, atol=1e-6)
        and (zg.grad[wrong].abs() > 0.5).all()
    ):
        true.append("e")
    return true


def bce_logits_value(p):
    """For label 0 the loss is -log(1 - sigmoid(z)) = log(1 + e^z), here log(1 + e^{Z}) = {Z} + log(1 + e^(-{Z})). PyTorch evaluates it with the log-sum-exp identity, max(z, 0) + log(1 + e^(-|z|)), so even a huge logit gives the exact value instead of overflowing. For large z the loss is about z itself: it keeps growing with the logit and so does the push back."""
    z = float(p["Z"])
    return z + math.log1p(math.exp(-z))


def check_bce_logits_value(p):
    import torch

    z = torch.tensor([float(p["Z"])], dtype=torch.float64)
    return torch.nn.BCEWithLogitsLoss()(z, torch.zeros(1, dtype=torch.float64)).item()


def sigmoid_bce_saturated(p):
    """In float32, 1 - sigmoid({Z}) is below half the spacing of floats near 1, so sigmoid(z) rounds to exactly 1.0. With label 0 the loss needs log(1 - 1.0) = log(0); BCELoss clamps its logs at -100 to avoid inf, so it returns 100.0 instead of about {Z}, and the gradient through the saturated sigmoid is 0. BCEWithLogitsLoss on z gives the right value and a gradient of about 1."""
    return "b"


def check_sigmoid_bce_saturated(p):
    import torch

    loss = torch.nn.BCELoss()(
        torch.sigmoid(torch.tensor([float(p["Z"])])), torch.tensor([0.0])
    ).item()
    if math.isnan(loss):
        return "d"
    if math.isinf(loss):
        return "c"
    return "b" if abs(loss - 100.0) < 1e-4 else "a"


def bce_on_logits(p):
    """nn.BCELoss expects probabilities and checks that they lie in [0, 1]: on the CPU a logit outside that range raises "all elements of input should be between 0 and 1" (on a GPU a device-side assert). Logits that happen to lie in [0, 1] pass the check and give a meaningless loss. The fix is BCEWithLogitsLoss on the logits, or (less stably) a sigmoid first."""
    return "b"


def check_bce_on_logits(p):
    import torch

    y = torch.tensor([1.0, 0.0])
    inside = torch.tensor([0.3, 0.6])
    loss_inside = torch.nn.BCELoss()(inside, y)
    if torch.allclose(loss_inside, torch.nn.BCEWithLogitsLoss()(inside, y)):
        return "a"  # same as with the sigmoid applied: not the case
    try:
        loss = torch.nn.BCELoss()(torch.tensor([2.0, -1.0]), y)
    except RuntimeError as err:
        assert "between 0 and 1" in str(err)
        return "b"
    return "c" if torch.isnan(loss) else "d"


def ce_loss_value(p):
    """CrossEntropyLoss takes raw logits and applies log_softmax itself: the loss is -log softmax(z)[{y}] = log(e^{z0} + e^{z1} + e^{z2}) - z_{y}, with z_{y} the logit of class {y} (0-based). Applying a softmax before the loss, or dividing the logits by their sum, gives a different number."""
    logits = [p["z0"], p["z1"], p["z2"]]
    top = max(logits)
    log_sum_exp = top + math.log(sum(math.exp(z - top) for z in logits))
    return float(log_sum_exp - logits[p["y"]])


def check_ce_loss_value(p):
    import torch

    logits = torch.tensor([[p["z0"], p["z1"], p["z2"]]], dtype=torch.float64)
    return torch.nn.CrossEntropyLoss()(logits, torch.tensor([p["y"]])).item()
