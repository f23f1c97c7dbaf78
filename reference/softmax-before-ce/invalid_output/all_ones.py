"""Invalid output: an attempt to game the log loss with rows of ones.

Every "probability" is 1, so the true class always gets probability 1 and an
unchecked log loss would be a perfect 0. The rows sum to 4, not 1, and the judge
refuses them.
"""

import os
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

test_X = np.load(DATA_DIR / "test_X.npy")
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "probabilities.npy", np.ones((len(test_X), 4)))
