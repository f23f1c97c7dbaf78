"""Reference: one independent yes/no per tag, sigmoid + BCEWithLogitsLoss, threshold 0.5.

Softmax makes the tags compete for one unit of probability: it is meant for
exactly one class per row. Its outputs cannot say "all six tags" or "no tag"
(adding the same number to every logit leaves softmax unchanged), and with
cross-entropy on a multi-hot row each true tag is pushed only to 1/m. Here the
number of tags per row varies a lot, so that information matters. A sigmoid per
tag with binary cross-entropy models each tag on its own; a tag is predicted
when its probability is above 0.5.
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
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def predict_tags(logits: torch.Tensor) -> torch.Tensor:
    """Turn a batch of logits into 0/1 tags."""
    probs = torch.sigmoid(logits)
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
