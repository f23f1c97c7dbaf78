"""Tag each row with every one of six tags that applies to it, using a small MLP.

This program runs, but it predicts far too few tags. Find the bug and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 12)), DATA_DIR/train_y.npy (int64,
(n_train, 6), 0/1) and DATA_DIR/test_X.npy; writes OUTPUT_DIR/predictions.npy, a
0/1 integer array of shape (n_test, 6). Both folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 60
BATCH_SIZE = 100
LEARNING_RATE = 3e-3

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()
n_tags = train_y.shape[1]

model = nn.Sequential(
    nn.Linear(train_X.shape[1], 64),
    nn.ReLU(),
    nn.Linear(64, n_tags),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def predict_tags(logits: torch.Tensor) -> torch.Tensor:
    """Turn a batch of logits into 0/1 tags."""
    probs = torch.softmax(logits, dim=1)
    return (probs > 0.5).long()


n = len(train_X)
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        logits = model(train_X[batch])
        loss = loss_fn(logits, train_y[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

model.eval()
with torch.no_grad():
    train_pred = predict_tags(model(train_X))
    predictions = predict_tags(model(test_X))
hits = (train_pred * train_y).sum()
train_f1 = 2 * hits / (train_pred.sum() + train_y.sum())
print(f"tags per row: true {train_y.sum(1).mean():.2f}, predicted {train_pred.float().sum(1).mean():.2f}")
print(f"training micro-F1 {train_f1.item():.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
