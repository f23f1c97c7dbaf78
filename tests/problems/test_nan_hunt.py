"""nan-hunt: the recipe has the extremes the problem relies on, and the two BCEs behave as taught.

The labelled submissions themselves are judged by `judge validate`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.problems.bankfiles import ROOT, recipe_module


def _function(path: Path, name: str) -> Any:
    """Pull one top-level function out of a script without running the script."""
    torch = pytest.importorskip("torch")
    tree = ast.parse(path.read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    namespace: dict[str, Any] = {"torch": torch}
    exec(compile(ast.Module([node], type_ignores=[]), str(path), "exec"), namespace)
    return namespace[name]


def test_the_recipe_draws_balanced_labels_and_the_extremes_the_problem_needs() -> None:
    recipe = recipe_module("nan_hunt")
    data = recipe.make(np.random.default_rng(0), 3000, collections=0.02)
    X, y = data["X"], data["y"]
    assert X.shape == (3000, 6) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.4 < y.mean() < 0.6
    z_scores = np.abs((X - X.mean(axis=0)) / X.std(axis=0))
    assert z_scores[:, 2].max() > 15  # a balance far out in the Pareto tail
    assert (recipe.true_logit(X) > 17).sum() >= 20  # accounts a good model is very sure about
    bayes = ((recipe.true_logit(X) > 0) == y).mean()
    assert 0.75 < bayes < 0.85


def test_the_naive_bce_gives_nan_where_the_stable_one_is_exact() -> None:
    torch = pytest.importorskip("torch")
    naive = _function(ROOT / "problems/nan-hunt/starter.py", "binary_cross_entropy")
    stable = _function(
        ROOT / "reference/nan-hunt/accepted/log_features_stable_formula.py", "binary_cross_entropy"
    )
    z = torch.tensor([1000.0, 1000.0, -1000.0, -1000.0, 20.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    per_row = [stable(z[i : i + 1], y[i : i + 1]).item() for i in range(5)]
    assert per_row == pytest.approx([0.0, 1000.0, 1000.0, 0.0, 2.06e-9], abs=1e-6)
    assert not torch.isfinite(naive(z, y))
    loss = stable(z, y)
    loss.backward()
    assert z.grad is not None
    expected = (torch.sigmoid(z.detach()) - y) / len(z)
    assert torch.allclose(z.grad, expected)


def test_the_stable_formula_matches_bce_with_logits() -> None:
    torch = pytest.importorskip("torch")
    stable = _function(
        ROOT / "reference/nan-hunt/accepted/log_features_stable_formula.py", "binary_cross_entropy"
    )
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(500, generator=generator, dtype=torch.float64) * 30
    y = (torch.rand(500, generator=generator, dtype=torch.float64) < 0.5).double()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    assert torch.allclose(stable(z, y), expected)
