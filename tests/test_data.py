"""Hidden data: seeded from the secret, reproducible, and never in the public files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from judge.bank import Bank
from judge.data import (
    DEVELOPMENT_SECRET,
    Secret,
    derive_seed,
    draw_function_calls,
    draw_train_predict,
    resolve_secret,
    write_public_train_predict,
)
from judge.errors import SpecError

BANK = Bank(Path(__file__).parent / "fixtures" / "bank")
SPEC = BANK.problem("threshold").spec
A, B = Secret(b"secret-a", "test"), Secret(b"secret-b", "test")


def test_same_secret_gives_byte_identical_data() -> None:
    first = draw_train_predict(SPEC, BANK.datasets_dir, A)
    second = draw_train_predict(SPEC, BANK.datasets_dir, A)
    assert first.hidden_X.tobytes() == second.hidden_X.tobytes()
    assert first.hidden_y.tobytes() == second.hidden_y.tobytes()


def test_other_secret_or_problem_or_purpose_changes_the_draw() -> None:
    base = draw_train_predict(SPEC, BANK.datasets_dir, A).hidden_X
    assert not np.array_equal(base, draw_train_predict(SPEC, BANK.datasets_dir, B).hidden_X)
    practice = draw_train_predict(SPEC, BANK.datasets_dir, A, purpose="practice").hidden_X
    assert not np.array_equal(base, practice)
    assert derive_seed(A, "threshold", "data").entropy != derive_seed(A, "other", "data").entropy


def test_seed_uses_the_full_hmac_not_a_32_bit_int() -> None:
    assert derive_seed(A, "threshold", "data").entropy.bit_length() > 200  # type: ignore[union-attr]


def test_split_sizes_follow_the_spec() -> None:
    data = draw_train_predict(SPEC, BANK.datasets_dir, A)
    assert len(data.train_X) == SPEC.dataset.n_train
    assert len(data.hidden_y) == SPEC.dataset.n_hidden


def test_public_files_hold_no_hidden_labels(tmp_path: Path) -> None:
    data = draw_train_predict(SPEC, BANK.datasets_dir, A)
    write_public_train_predict(data, tmp_path, include_test=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "test_X.npy",
        "train_X.npy",
        "train_y.npy",
    ]
    hidden = data.hidden_y.tobytes()
    for path in tmp_path.iterdir():
        assert hidden not in path.read_bytes()


def test_secret_resolution_order(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    assert resolve_secret("from-env", secret_file).value == b"from-env"
    assert resolve_secret(None, secret_file).value == b"from-file"
    fallback = resolve_secret(None, tmp_path / "absent")
    assert fallback.value == DEVELOPMENT_SECRET and fallback.is_development
    assert "from-env" not in repr(resolve_secret("from-env", None))


def test_empty_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("  \n")
    with pytest.raises(SpecError, match="secret file is empty"):
        resolve_secret(None, tmp_path / "secret")


def write_recipe(folder: Path, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "halfplane.py").write_text(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("def make(rng, n, **kw):\n    raise ValueError('boom')\n", "crashed: ValueError: boom"),
        ("def make(rng, n, **kw):\n    return {'X': [[0]] * 3, 'y': [0] * 3}\n", "expected 700"),
        ("def make(rng, n, **kw):\n    return [1, 2]\n", "must return a dict"),
        ("import nonexistent_module_xyz\n", "failed to import"),
        ("x = 1\n", "must define make"),
    ],
)
def test_broken_recipes_raise_spec_error(tmp_path: Path, body: str, reason: str) -> None:
    write_recipe(tmp_path, body)
    with pytest.raises(SpecError, match=reason):
        draw_train_predict(SPEC, tmp_path, A)


def test_function_calls_are_drawn_from_the_secret() -> None:
    spec = BANK.problem("add-arrays").spec
    calls = draw_function_calls(spec, BANK.datasets_dir, A).calls
    assert len(calls) == spec.dataset.n_hidden and calls[0]["function"] == "add"
    assert calls != draw_function_calls(spec, BANK.datasets_dir, B).calls
    digest = hashlib.sha256(repr(calls).encode()).hexdigest()
    assert (
        digest
        == hashlib.sha256(
            repr(draw_function_calls(spec, BANK.datasets_dir, A).calls).encode()
        ).hexdigest()
    )
