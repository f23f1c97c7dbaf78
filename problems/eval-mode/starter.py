"""Classify 6-feature sensor readings into four kinds with a regularized MLP.

The network trains well (look at its training accuracy), yet its predictions on the
hidden rows are much worse than that. Find out why and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 6)), DATA_DIR/train_y.npy (int64,
labels 0..3) and DATA_DIR/test_X.npy; writes OUTPUT_DIR/predictions.npy, one integer
label per row of test_X. Both folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 40
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
HIDDEN = 128

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()
n, features = train_X.shape


def block(d_in, d_out):
    return [nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU(), nn.Dropout(0.3)]


model = nn.Sequential(*block(features, HIDDEN), *block(HIDDEN, HIDDEN), nn.Linear(HIDDEN, 4))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_X[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

with torch.no_grad():
    train_accuracy = (model(train_X).argmax(dim=1) == train_y).float().mean().item()
    predictions = model(test_X).argmax(dim=1)
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
