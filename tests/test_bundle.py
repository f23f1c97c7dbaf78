"""Contestant bundles and practice folders: public files only, never a reference or a hidden row."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from judge.bank import Bank
from judge.bundle import export_bundle
from judge.data import Secret, draw_train_predict
from judge.errors import UsageError
from judge.harness import leak_scan
from judge.validate import hidden_row_hashes

BANK = Bank(Path(__file__).parent.parent)
SLUGS = ["conv-geometry", "missing-zero-grad", "overfit-regularize"]
SECRET = Secret(b"bundle-test-secret", "test")


def _normalised(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("bundle") / "practice.zip"
    export_bundle([BANK.problem(s) for s in SLUGS], BANK, SECRET, dest)
    return dest


def test_the_bundle_holds_statements_starters_data_and_a_readme(bundle: Path) -> None:
    names = set(zipfile.ZipFile(bundle).namelist())
    assert "practice/README.md" in names
    for slug in SLUGS:
        for part in ("statement.md", "starter.py", "problem.json"):
            assert f"practice/{slug}/{part}" in names
    assert "practice/missing-zero-grad/data/train_X.npy" in names
    assert "practice/missing-zero-grad/data/test_X.npy" in names
    assert "practice/conv-geometry/data/calls.json" in names
    facts = json.loads(zipfile.ZipFile(bundle).read("practice/missing-zero-grad/problem.json"))
    assert facts["output"]["file"] == "predictions.npy" and "dataset" not in facts


def test_the_bundle_holds_no_reference_file(bundle: Path) -> None:
    references = {_normalised(p.read_bytes()) for p in BANK.reference_dir.rglob("*") if p.is_file()}
    with zipfile.ZipFile(bundle) as zipped:
        for name in zipped.namelist():
            assert "reference" not in name and "accepted" not in name
            if not name.endswith("/"):
                assert _normalised(zipped.read(name)) not in references, name


def test_the_bundle_holds_no_hidden_row(bundle: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(bundle).extractall(tmp_path)
    for slug in SLUGS:
        spec = BANK.problem(slug).spec
        if spec.kind != "train-predict":
            continue
        hidden = draw_train_predict(spec, BANK.datasets_dir, SECRET)
        hashes = {h: slug for h in hidden_row_hashes(hidden)}
        widths = {hidden.hidden_X.shape[1]}
        assert leak_scan.scan([tmp_path], hashes, widths) == []
        # The scan does find rows that are there: the practice draw's training rows.
        practice = draw_train_predict(spec, BANK.datasets_dir, SECRET, purpose="practice")
        train = {leak_scan.row_hash(r): slug for r in leak_scan.rows_of(practice.train_X)}
        assert leak_scan.scan([tmp_path / "practice" / slug / "data"], train, widths)


def test_the_bundle_holds_no_hidden_labels(bundle: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(bundle).extractall(tmp_path)
    data = tmp_path / "practice" / "missing-zero-grad" / "data"
    assert sorted(p.name for p in data.iterdir()) == [
        "test_X.npy",
        "test_y.npy",
        "train_X.npy",
        "train_y.npy",
    ]
    spec = BANK.problem("missing-zero-grad").spec
    assert len(np.load(data / "train_y.npy")) == spec.dataset.n_train
    # the labels are the practice draw's: the hidden labels are nowhere in the folder
    practice = draw_train_predict(spec, BANK.datasets_dir, SECRET, purpose="practice")
    hidden = draw_train_predict(spec, BANK.datasets_dir, SECRET)
    assert np.array_equal(np.load(data / "test_y.npy"), practice.hidden_y)
    assert not np.array_equal(np.load(data / "test_X.npy"), hidden.hidden_X)


def test_export_refuses_to_overwrite_or_a_name_that_is_not_a_zip(tmp_path: Path) -> None:
    problems = [BANK.problem("conv-geometry")]
    (tmp_path / "taken.zip").write_bytes(b"keep me")
    with pytest.raises(UsageError, match="already exists"):
        export_bundle(problems, BANK, SECRET, tmp_path / "taken.zip")
    assert (tmp_path / "taken.zip").read_bytes() == b"keep me"
    with pytest.raises(UsageError, match=r"a bundle is a \.zip file"):
        export_bundle(problems, BANK, SECRET, tmp_path / "bundle.tar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.zip"]
