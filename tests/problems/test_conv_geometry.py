"""conv-geometry's reference agrees with real torch layers on drawn calls.

Every labelled submission of every problem is judged by `judge validate` (make validate,
run by CI); tests/problems/test_bank.py checks the bank's shape.
"""

from __future__ import annotations

from typing import Any

import pytest

from judge.data import draw_function_calls, resolve_secret
from tests.problems.bankfiles import BANK, load_module


def _torch_answer(call: dict[str, Any]) -> Any:
    """What real torch layers say for one call: output shape, or the stack's receptive field."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def axes(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    args = call["args"]
    if call["function"] == "receptive_field":
        # Brute force: all-ones 1-D convolutions; the input positions with a non-zero
        # gradient of output unit 0 are the ones that can affect it.
        layers = [
            nn.Conv1d(1, 1, layer["kernel_size"], layer["stride"], 0, layer["dilation"], bias=False)
            for layer in args[0]
        ]
        for layer in layers:
            nn.init.ones_(layer.weight)
        length = 1
        for layer in reversed(args[0]):  # input length that gives exactly one output unit
            length = (
                (length - 1) * layer["stride"] + layer["dilation"] * (layer["kernel_size"] - 1) + 1
            )
        x = torch.ones(1, 1, length + 16, requires_grad=True)
        out = x
        for layer in layers:
            out = layer(out)
        out[0, 0, 0].backward()
        touched = torch.nonzero(x.grad[0, 0]).flatten()
        return int(touched.max() - touched.min() + 1)
    if call["function"] == "conv2d_output_size":
        h, w, kernel, stride, padding, dilation = args
        module = nn.Conv2d(1, 1, axes(kernel), axes(stride), axes(padding), axes(dilation))
    else:
        h, w, kernel, stride, padding, dilation, ceil_mode = args
        module = nn.MaxPool2d(
            axes(kernel), axes(stride), axes(padding), axes(dilation), ceil_mode=ceil_mode
        )
    with torch.no_grad():
        return list(module(torch.zeros(1, 1, h, w)).shape[-2:])


def test_conv_geometry_reference_matches_torch_on_drawn_calls() -> None:
    problem = BANK.problem("conv-geometry")
    assert problem.spec.function is not None
    reference = load_module(problem.reference_folder / problem.spec.function.reference)
    mismatches = []
    for name in ("alpha", "bravo", "charlie", "delta", "echo"):
        calls = draw_function_calls(problem.spec, BANK.datasets_dir, resolve_secret(name, None))
        for call in calls.calls:
            got = getattr(reference, call["function"])(*call["args"], **call["kwargs"])
            if got != _torch_answer(call):
                mismatches.append(call)
    assert not mismatches, mismatches[:5]


def test_every_conv_geometry_draw_holds_last_window_cases() -> None:
    problem = BANK.problem("conv-geometry")
    assert problem.spec.function is not None
    reference = load_module(problem.reference_folder / problem.spec.function.reference)
    careless = load_module(
        problem.reference_folder / "wrong_answer" / "ceil_mode_without_last_window_rule.py"
    )
    for name in ("alpha", "bravo", "charlie"):
        calls = draw_function_calls(problem.spec, BANK.datasets_dir, resolve_secret(name, None))
        differ = sum(
            reference.maxpool2d_output_size(*call["args"])
            != careless.maxpool2d_output_size(*call["args"])
            for call in calls.calls
            if call["function"] == "maxpool2d_output_size"
        )
        assert differ >= 10, name  # the recipe's quota: a quarter of the pooling calls
