"""Untrusted output files: anything odd becomes InvalidOutput, never a crash."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judge.errors import InvalidOutput
from judge.outputs import read_function_results, read_predictions, read_untrusted_file
from judge.scoring import compute_metric
from judge.spec import OutputSpec

INT_NPY = OutputSpec(file="predictions.npy", shape=["n"], dtype="int")
FLOAT_CSV = OutputSpec(file="predictions.csv", shape=["n", 2], dtype="float")
CAP = 1 << 20


def test_npy_labels_are_read(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([0, 1, 1]))
    assert read_predictions(tmp_path, INT_NPY, 3, CAP).tolist() == [0, 1, 1]


def test_integral_floats_count_as_labels(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([0.0, 1.0]))
    assert read_predictions(tmp_path, INT_NPY, 2, CAP).dtype == np.int64


def test_csv_with_header_is_read(tmp_path: Path) -> None:
    (tmp_path / "predictions.csv").write_text("a,b\n0.5,1\n2,3e-1\n")
    got = read_predictions(tmp_path, FLOAT_CSV, 2, CAP)
    assert got.tolist() == [[0.5, 1.0], [2.0, 0.3]]


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.array([0, 1]), "shape"),
        (np.array([0.5, 1.0, 0.0]), "integer class labels"),
        (np.array([np.nan, 1, 0]), "NaN"),
        (np.array(["a", "b", "c"]), "dtype"),
    ],
)
def test_bad_arrays_are_invalid_output(tmp_path: Path, array: np.ndarray, reason: str) -> None:
    np.save(tmp_path / "predictions.npy", array)
    with pytest.raises(InvalidOutput, match=reason):
        read_predictions(tmp_path, INT_NPY, 3, CAP)


def test_pickle_payload_is_refused_without_unpickling(tmp_path: Path) -> None:
    np.save(tmp_path / "predictions.npy", np.array([{"x": 1}, None, 3], dtype=object))
    with pytest.raises(InvalidOutput, match="pickled"):
        read_predictions(tmp_path, INT_NPY, 3, CAP)


def test_symlinked_predictions_get_invalid_output(tmp_path: Path) -> None:
    target = tmp_path / "labels.npy"
    np.save(target, np.array([0, 1, 1]))
    (tmp_path / "out").mkdir()
    os.symlink(target, tmp_path / "out" / "predictions.npy")
    with pytest.raises(InvalidOutput, match="symlink"):
        read_predictions(tmp_path / "out", INT_NPY, 3, CAP)


def test_fifo_and_directory_are_not_regular_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "predictions.npy")
    with pytest.raises(InvalidOutput, match="not a regular file"):
        read_untrusted_file(tmp_path / "predictions.npy", CAP)
    (tmp_path / "results.json").mkdir()
    with pytest.raises(InvalidOutput, match="not a regular file"):
        read_untrusted_file(tmp_path / "results.json", CAP)


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidOutput, match="was not written"):
        read_untrusted_file(tmp_path / "nothing.npy", CAP)
    (tmp_path / "big.npy").write_bytes(b"x" * 2048)
    with pytest.raises(InvalidOutput, match="over the 1024 cap"):
        read_untrusted_file(tmp_path / "big.npy", 1024)


def test_function_results_must_be_a_list_of_objects(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('[{"ok": true, "value": 1}, 3]')
    with pytest.raises(InvalidOutput, match="boolean 'ok'"):
        read_function_results(tmp_path, 2, CAP)
    (tmp_path / "results.json").write_text("[" * 100_000)
    with pytest.raises(InvalidOutput, match="not valid JSON"):
        read_function_results(tmp_path, 2, CAP)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_random_bytes_never_crash_the_reader(tmp_path: Path, payload: bytes) -> None:
    for name, contract in (("predictions.npy", INT_NPY), ("predictions.csv", FLOAT_CSV)):
        (tmp_path / name).write_bytes(payload)
        with contextlib.suppress(InvalidOutput):
            read_predictions(tmp_path, contract, 3, CAP)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(st.one_of(st.floats(), st.text(max_size=4)), min_size=1, max_size=3), max_size=5
    )
)
def test_near_valid_csv_never_crashes_the_reader(tmp_path: Path, rows: list[list[object]]) -> None:
    text = "\n".join(",".join(str(cell) for cell in row) for row in rows)
    (tmp_path / "predictions.csv").write_text(text)
    with contextlib.suppress(InvalidOutput):
        read_predictions(tmp_path, FLOAT_CSV, len(rows), CAP)


def test_truncated_npy_header_is_invalid_output(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3))
    (tmp_path / "predictions.npy").write_bytes(buffer.getvalue()[:20])
    with pytest.raises(InvalidOutput):
        read_predictions(tmp_path, INT_NPY, 3, CAP)


METRIC_CONTRACTS = {
    "accuracy": OutputSpec(file="predictions.csv", shape=["n"], dtype="int"),
    "macro_f1": OutputSpec(file="predictions.csv", shape=["n"], dtype="int"),
    "r2": OutputSpec(file="predictions.csv", shape=["n"], dtype="float"),
    "mse": OutputSpec(file="predictions.csv", shape=["n"], dtype="float"),
    "log_loss": OutputSpec(file="predictions.csv", shape=["n"], dtype="float"),
    "roc_auc": OutputSpec(file="predictions.csv", shape=["n"], dtype="float"),
}
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "0x10", "1_000", " 1 ", "label", "ℵ"]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(METRIC_CONTRACTS)),
    st.one_of(st.none(), st.sampled_from(["prediction", "id,prediction", "0,1,2", "#"])),
    st.lists(CELLS, min_size=0, max_size=8),
)
def test_fuzzed_csv_through_reader_and_metric_is_io_never_a_crash(
    tmp_path: Path, metric: str, header: str | None, cells: list[object]
) -> None:
    """Random cells, wrong headers and huge numbers end as a score or InvalidOutput (IO)."""
    lines = ([header] if header is not None else []) + [str(cell) for cell in cells]
    (tmp_path / "predictions.csv").write_text("\n".join(lines))
    truth = np.array([0, 1, 1, 0, 1, 0])
    try:
        predictions = read_predictions(tmp_path, METRIC_CONTRACTS[metric], len(truth), CAP)
        compute_metric(metric, truth, predictions)
    except InvalidOutput:
        pass
