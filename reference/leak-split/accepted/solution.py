"""Reference: choose k with a validation protocol that does not leak.

Three leaks made the starter's cross-validation score about 0.99 and pick k = 1:
- the minority rows were copied BEFORE the folds were cut, so a copy of a validation
  row sat in the training folds, at distance 0;
- the rows were split at random although each patient has several visits, so the other
  visits of a validation patient were in the training folds, nearly as close;
- the scaler was fitted on all rows (the mildest of the three).
k = 1 wins that contest by looking up the same patient. The hidden rows are new
patients, so the folds are now cut by patient id, and inside each fold the scaler is
fitted on, and the oversampling applied to, the training part only; the validation part
is left as it is. The honest scores are lower and favour a large k, which averages away
the wrongly recorded diagnoses instead of copying them.
"""

import os
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

K_GRID = [1, 3, 5, 9, 15, 25, 41, 65, 101, 151, 251]  # odd, so a vote never ties
FOLDS = 5

torch.manual_seed(0)
torch.set_num_threads(1)
rng = np.random.default_rng(0)

train_X = np.load(DATA_DIR / "train_X.npy")
train_y = np.load(DATA_DIR / "train_y.npy")
test_X = np.load(DATA_DIR / "test_X.npy")
features = train_X[:, 1:]  # column 0 is the patient id, not a measurement


def standardise(fit_on, *arrays):
    """Scale every column to mean 0 and standard deviation 1, with statistics of `fit_on`."""
    mean, std = fit_on.mean(axis=0), fit_on.std(axis=0) + 1e-8
    return [(a - mean) / std for a in arrays]


def oversample(X, y):
    """Copy random minority rows until both classes have as many rows."""
    minority = np.flatnonzero(y == 1)
    extra = rng.choice(minority, size=int((y == 0).sum()) - len(minority), replace=True)
    keep = np.concatenate([np.arange(len(y)), extra])
    return X[keep], y[keep]


def knn_predict(train_F, train_labels, query_F, ks):
    """Predicted labels of the query rows for every k in ks (majority vote of k neighbours)."""
    dist = torch.cdist(torch.from_numpy(query_F).float(), torch.from_numpy(train_F).float())
    nearest = dist.topk(max(ks), dim=1, largest=False).indices  # sorted, nearest first
    votes = torch.from_numpy(train_labels)[nearest].float().cumsum(dim=1)
    return {k: (votes[:, k - 1] / k > 0.5).long().numpy() for k in ks}


def balanced_accuracy(y_true, y_pred):
    """Mean of the recall of class 0 and the recall of class 1."""
    return np.mean([(y_pred[y_true == c] == c).mean() for c in (0, 1)])


# Choose k by 5-fold cross-validation with the folds cut by patient: every visit of a
# patient falls in the same fold, as a new patient's visits would all be unseen.
patients = np.unique(train_X[:, 0])
fold_of_patient = dict(zip(patients, rng.permutation(len(patients)) % FOLDS))
fold_of = np.array([fold_of_patient[p] for p in train_X[:, 0]])
scores = {k: 0.0 for k in K_GRID}
for fold in range(FOLDS):
    fit, val = fold_of != fold, fold_of == fold
    fit_F, val_F = standardise(features[fit], features[fit], features[val])  # fit part only
    fit_F, fit_y = oversample(fit_F, train_y[fit])  # balance the training part only
    predicted = knn_predict(fit_F, fit_y, val_F, K_GRID)
    for k in K_GRID:
        scores[k] += balanced_accuracy(train_y[val], predicted[k]) / FOLDS
for k in K_GRID:
    print(f"k = {k:3d}  cross-validated balanced accuracy {scores[k]:.3f}")
best_k = max(K_GRID, key=lambda k: scores[k])
print(f"chosen k = {best_k}")

# Refit on all the training rows and predict the new patients.
train_scaled, test_scaled = standardise(features, features, test_X[:, 1:])
X_all, y_all = oversample(train_scaled, train_y)
predictions = knn_predict(X_all, y_all, test_scaled, [best_k])[best_k]

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.astype(np.int64))
