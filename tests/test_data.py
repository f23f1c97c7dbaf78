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
    derive_secret,
    derive_seed,
    draw_function_calls,
    draw_train_predict,
    public_indices,
    recipe_params,
    resolve_secret,
    write_public_train_predict,
)
from judge.errors import SpecError
from judge.spec import DatasetSpec, ProblemSpec, SecretParam

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


def _with_dataset(spec: ProblemSpec, **changes: object) -> ProblemSpec:
    dataset = spec.dataset.model_copy(update=changes)
    return spec.model_copy(update={"dataset_section": dataset})


def test_secret_params_are_drawn_from_the_secret_within_their_range() -> None:
    spec = _with_dataset(SPEC, params={}, secret_params={"noise": SecretParam(low=0.05, high=0.3)})
    drawn = {recipe_params(spec, Secret(f"s{i}".encode(), "t"))["noise"] for i in range(20)}
    assert all(0.05 <= value <= 0.3 for value in drawn)
    assert len(drawn) == 20
    assert recipe_params(spec, A) == recipe_params(spec, A)


def test_integer_secret_params_are_whole_numbers() -> None:
    spec = _with_dataset(
        SPEC, params={}, secret_params={"noise": SecretParam(low=1, high=3, integer=True)}
    )
    drawn = {recipe_params(spec, Secret(f"s{i}".encode(), "t"))["noise"] for i in range(30)}
    assert drawn == {1, 2, 3}


def test_a_param_fixed_and_secret_at_once_is_a_spec_error() -> None:
    with pytest.raises(ValueError, match="noise given in both params and secret_params"):
        DatasetSpec(
            recipe="halfplane",
            params={"noise": 0.1},
            secret_params={"noise": {"low": 0.0, "high": 1.0}},
            n_hidden=10,
        )


def test_per_contestant_problems_draw_each_contestant_their_own_data() -> None:
    spec = _with_dataset(SPEC, per_contestant=True)
    alice = draw_train_predict(spec, BANK.datasets_dir, A, contestant="alice").hidden_X
    again = draw_train_predict(spec, BANK.datasets_dir, A, contestant="alice").hidden_X
    bob = draw_train_predict(spec, BANK.datasets_dir, A, contestant="bob").hidden_X
    assert np.array_equal(alice, again) and not np.array_equal(alice, bob)
    # A problem not drawn per contestant ignores the contestant.
    shared = draw_train_predict(SPEC, BANK.datasets_dir, A, contestant="alice").hidden_X
    assert np.array_equal(shared, draw_train_predict(SPEC, BANK.datasets_dir, A).hidden_X)


def test_the_public_part_is_a_secret_subset_of_the_stated_size() -> None:
    public = public_indices(SPEC, A)
    assert len(public) == round(SPEC.dataset.public_fraction * SPEC.dataset.n_hidden)
    assert len(set(public.tolist())) == len(public)
    assert public.min() >= 0 and public.max() < SPEC.dataset.n_hidden
    assert np.array_equal(public, public_indices(SPEC, A))
    assert not np.array_equal(public, public_indices(SPEC, B))


def test_derived_secrets_are_distinct_and_reproducible() -> None:
    assert derive_secret(A, "draw-1").value == derive_secret(A, "draw-1").value
    assert derive_secret(A, "draw-1").value != derive_secret(A, "draw-2").value
    assert derive_secret(A, "draw-1").value != derive_secret(B, "draw-1").value


CLASS_ROWS = SPEC.model_copy(
    update={
        "metric": SPEC.metric.model_copy(update={"name": "log_loss", "direction": "min"}),
        "output": SPEC.output.model_copy(update={"shape": ["n", 3]}) if SPEC.output else None,
    }
)


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ("np.eye(3, dtype=np.int64)[rng.integers(0, 3, n)]", r"class indices .* needs \(n\)"),
        ("rng.integers(0, 4, n)", r"integer class indices in \[0, 3\)"),
        ("rng.random(n)", r"integer class indices in \[0, 3\)"),
    ],
)
def test_class_probability_problems_need_class_index_labels(
    tmp_path: Path, labels: str, reason: str
) -> None:
    write_recipe(
        tmp_path,
        "import numpy as np\n"
        f"def make(rng, n, **kw):\n    return {{'X': rng.random((n, 2)), 'y': {labels}}}\n",
    )
    with pytest.raises(SpecError, match=reason):
        draw_train_predict(CLASS_ROWS, tmp_path, A)


def test_class_index_labels_are_drawn_for_class_probability_problems(tmp_path: Path) -> None:
    write_recipe(
        tmp_path,
        "def make(rng, n, **kw):\n"
        "    return {'X': rng.random((n, 2)), 'y': rng.integers(0, 3, n)}\n",
    )
    drawn = draw_train_predict(CLASS_ROWS, tmp_path, A)
    assert drawn.hidden_y.shape == (SPEC.dataset.n_hidden,)
