"""Classify points from two clouds.

Reads DATA_DIR/train_X.npy, train_y.npy and test_X.npy; writes
OUTPUT_DIR/predictions.npy with one integer label per row of test_X.
"""

import os
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

# TODO(setter): replace this weak baseline with your starter: idiomatic code with
# exactly the planted defect, which must get starter_verdict on every draw.
train_y = np.load(DATA_DIR / "train_y.npy")
test_X = np.load(DATA_DIR / "test_X.npy")
majority = np.bincount(train_y).argmax()
predictions = np.full(len(test_X), majority, dtype=np.int64)

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions)
