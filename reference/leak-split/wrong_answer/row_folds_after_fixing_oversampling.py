"""Wrong: fits the scaler and oversamples inside each fold, but still cuts rows at random.

The copies of validation rows are gone from the training folds, but the other visits of
each validation patient are still there: k = 1 still finds the same patient and still
wins the cross-validation, and it still fails on new patients.
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


# Choose k by 5-fold cross-validation; scaler and oversampling inside each fold.
fold_of = rng.permutation(len(train_y)) % FOLDS
scores = {k: 0.0 for k in K_GRID}
for fold in range(FOLDS):
    fit, val = fold_of != fold, fold_of == fold
    fit_F, val_F = standardise(features[fit], features[fit], features[val])
    fit_F, fit_y = oversample(fit_F, train_y[fit])
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
