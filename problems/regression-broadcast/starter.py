"""Predict a real-valued target from six features with a small MLP.

This program runs to the end, but its predictions are nearly the same number
for every row. Find the bug and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 6)), DATA_DIR/train_y.npy
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

EPOCHS = 100
BATCH_SIZE = 100
LEARNING_RATE = 5e-3

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

model = nn.Sequential(
    nn.Linear(train_X.shape[1], 64),
    nn.ReLU(),
    nn.Linear(64, 64),
    nn.ReLU(),
    nn.Linear(64, 1),
)
loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

n = len(train_X)
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        pred = model(train_X[batch])
        loss = loss_fn(pred, train_y[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if epoch % 25 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

model.eval()
with torch.no_grad():
    train_pred = model(train_X)
    predictions = model(test_X)
train_r2 = 1 - ((train_pred.squeeze(1) - train_y) ** 2).mean() / train_y.var()
print(f"training R^2 {train_r2.item():.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.float32))
