"""Answers and brute-force checks for the quiz drill-1-tensors-autograd.

One function per item (item id with '-' replaced by '_'): it takes the item's drawn params
and returns the right answer; its docstring is the explanation shown after submission.
`check_<name>` recomputes the same answer with real torch (imported inside the function).
"""


def linear_output_shape(p):
    """nn.Linear acts on the last dimension only: each of the {B} rows of size {D} is mapped to a row of size {C}, so ({B}, {D}) becomes ({B}, {C}). The batch dimension is untouched."""
    return [p["B"], p["C"]]


def check_linear_output_shape(p):
    import torch

    return list(torch.nn.Linear(p["D"], p["C"])(torch.zeros(p["B"], p["D"])).shape)


def linear_param_count(p):
    """The weight matrix has {C} x {D} entries and the bias has {C} more (bias=True is the default), so the count is {D}*{C} + {C}. Forgetting the bias gives {D}*{C}, the classic wrong answer."""
    return p["D"] * p["C"] + p["C"]


def check_linear_param_count(p):
    import torch

    layer = torch.nn.Linear(p["D"], p["C"])
    return sum(t.numel() for t in layer.parameters() if t.requires_grad)


def sequence_linear_shape(p):
    """nn.Linear maps only the last dimension, {D} -> {C}, and treats every leading dimension as a batch dimension. ({B}, {T}, {D}) becomes ({B}, {T}, {C}); there is no need to flatten the tokens first."""
    return [p["B"], p["T"], p["C"]]


def check_sequence_linear_shape(p):
    import torch

    layer = torch.nn.Linear(p["D"], p["C"])
    return list(layer(torch.zeros(p["B"], p["T"], p["D"])).shape)


def zero_grad_third_step(p):
    """backward() ADDS into .grad; nothing clears it except zero_grad() (or setting grad to None). optimizer.step() only reads .grad. After the third backward, p.grad is the sum of the three batches' gradients, each taken at the weights of its own step, so the updates grow and training goes wrong."""
    return "b"


def check_zero_grad_third_step(p):
    import copy

    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    batches = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(3)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fresh = []  # the gradient of each batch alone, at the weights used for it
    for x, y in batches:
        alone = copy.deepcopy(model)
        torch.nn.functional.mse_loss(alone(x), y).backward()
        fresh.append(alone.weight.grad.clone())
        torch.nn.functional.mse_loss(model(x), y).backward()
        if len(fresh) < 3:
            optimizer.step()
    grad = model.weight.grad
    candidates = {
        "a": fresh[2],
        "b": fresh[0] + fresh[1] + fresh[2],
        "c": (fresh[0] + fresh[1] + fresh[2]) / 3,
        "d": torch.zeros_like(grad),
    }
    return next(k for k, v in candidates.items() if torch.allclose(grad, v, atol=1e-6))


def accumulated_grad_value(p):
    """d/dw of {a}*w*w is 2*{a}*w = 2*{a}*{w}. Without zeroing, each of the three backward() calls adds that value into w.grad, so it ends at 3 * 2*{a}*{w}. Reading only the last call's gradient (2*{a}*{w}) is the classic mistake."""
    return 3 * 2 * p["a"] * p["w"]


def check_accumulated_grad_value(p):
    import torch

    w = torch.tensor(float(p["w"]), requires_grad=True)
    for _ in range(3):
        loss = p["a"] * w * w
        loss.backward()
    return int(round(w.grad.item()))


def cut_graph_gradient(p):
    """u was computed under no_grad, so it is a constant {w}^2 with no history; w.detach() is a constant {w} too. Only the remaining factors of w carry gradient: d/dw of {a}*u*w is {a}*{w}^2 and d/dw of w.detach()*w is {w}, so the sum is {a}*{w}^2 + {w}. Differentiating everything (3*{a}*w^2 + 2*w) is the classic wrong answer."""
    return p["a"] * p["w"] ** 2 + p["w"]


def check_cut_graph_gradient(p):
    import torch

    w = torch.tensor(float(p["w"]), requires_grad=True)
    with torch.no_grad():
        u = w * w
    v = w.detach() * w
    loss = p["a"] * u * w + v
    loss.backward()
    return int(round(w.grad.item()))


def detach_vs_no_grad(p):
    """no_grad() stops recording the graph for the code inside it, so its outputs have requires_grad=False and backward() through them fails. detach() returns a view of the same storage cut out of the graph (an in-place edit of it changes the original). Neither touches the parameters themselves: they keep requires_grad=True and the optimizer still trains them; to freeze a weight set p.requires_grad_(False) or leave it out of the optimizer."""
    return ["a", "b", "e"]


def check_detach_vs_no_grad(p):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    true = []
    with torch.no_grad():
        y = model(x)
    if not y.requires_grad:
        true.append("a")
    h = model(x)
    d = h.detach()
    if d.data_ptr() == h.data_ptr() and d.grad_fn is None and not d.requires_grad:
        true.append("b")
    h2 = model(x)
    d2 = h2.detach()
    d2[0, 0] = 123.0
    if h2[0, 0].item() != 123.0:
        true.append("c")
    before = model.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(x).sum().backward()
    optimizer.step()
    if torch.equal(before, model.weight.detach()):
        true.append("d")
    try:
        y.sum().backward()
    except RuntimeError:
        true.append("e")
    model.weight.detach()
    if not model.weight.requires_grad:
        true.append("f")
    return true


def device_mismatch_causes(p):
    """The error means one operation got operands on two devices. Tensor.to() is NOT in place: it returns a moved copy, so an unassigned x.to("cuda") leaves x on the CPU, and a tensor made without device= lives on the CPU. nn.Module.to() IS in place, so an unassigned model.to("cuda") is harmless. A float64 batch gives a dtype error (expected Float but found Double / mat1 and mat2 must have the same dtype), and a batch too large gives "CUDA out of memory"."""
    return ["a", "b", "c"]


def check_device_mismatch_causes(p):
    """Simulate with the 'meta' device standing in for cuda; (f) is an out-of-memory error, not a device error, and cannot be simulated on the CPU."""
    import torch

    dev = "meta"

    def raises_device_error(run):
        try:
            run()
        except RuntimeError as err:
            return "device" in str(err)
        return False

    def a():
        model = torch.nn.Linear(3, 2).to(dev)
        model(torch.zeros(4, 3))

    def b():
        model = torch.nn.Linear(3, 2).to(dev)
        x = torch.zeros(4, 3)
        x.to(dev)
        model(x)

    def c():
        model = torch.nn.Linear(3, 2).to(dev)
        x = torch.zeros(4, 3).to(dev)
        model(x) + torch.zeros(2)

    def d():
        model = torch.nn.Linear(3, 2)
        model.to(dev)
        model(torch.zeros(4, 3).to(dev))

    def e():
        model = torch.nn.Linear(3, 2)
        model(torch.zeros(4, 3, dtype=torch.float64))

    cases = {"a": a, "b": b, "c": c, "d": d, "e": e}
    return [k for k, run in cases.items() if raises_device_error(run)]
