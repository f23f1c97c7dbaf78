"""Predict a noisy target from 10 features with an MLP.

This program fits the training rows almost perfectly, and predicts new rows
badly. Make it generalise.

Reads DATA_DIR/train_X.npy (float32, (n_train, 10)), DATA_DIR/train_y.npy
(float32, (n_train,)) and DATA_DIR/test_X.npy; writes OUTPUT_DIR/predictions.npy,
one float per row of test_X. Both folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 300
BATCH_SIZE = 32
LEARNING_RATE = 1e-3
HIDDEN = 256

torch.manual_seed(0)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()
n, features = train_X.shape

model = nn.Sequential(
    nn.Linear(features, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 1),
)
loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def r2_score(y, prediction):
    """R^2: 1 - (mean squared error) / (variance of y); 0 means "no better than the mean"."""
    return 1.0 - ((y - prediction) ** 2).mean().item() / y.var(unbiased=False).item()


for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_X[batch]).squeeze(1), train_y[batch])
        loss.backward()
        optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            fit = r2_score(train_y, model(train_X).squeeze(1))
        print(f"epoch {epoch:3d}  training R^2 {fit:.3f}")

model.eval()
with torch.no_grad():
    predictions = model(test_X).squeeze(1)

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.float64))
