"""Predict which loan accounts default, with a small MLP.

The program runs to the end without an error, but its training loss is nan
and its predictions are no better than a coin. Find out why and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 6): age, income, balance,
utilization, tenure, late_payments, in their natural units), DATA_DIR/train_y.npy
(int64, 1 = defaulted, 0 = repaid) and DATA_DIR/test_X.npy; writes
OUTPUT_DIR/predictions.npy, one integer label (0 or 1) per row of test_X. Both
folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 300
LEARNING_RATE = 0.1
HIDDEN = 32

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()


def binary_cross_entropy(logits, targets):
    """Mean binary cross-entropy of the targets (0 or 1) under sigmoid(logits)."""
    p = torch.sigmoid(logits)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()


model = nn.Sequential(
    nn.Linear(train_X.shape[1], HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    logits = model(train_X).squeeze(1)
    loss = binary_cross_entropy(logits, train_y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  training loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    train_accuracy = ((model(train_X).squeeze(1) > 0).float() == train_y).float().mean().item()
    predictions = (torch.sigmoid(model(test_X).squeeze(1)) > 0.5).long()
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
