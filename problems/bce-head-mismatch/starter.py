"""Predict the probability that a case is positive, with a small MLP.

The program runs and its predictions rank the cases sensibly, but the
probabilities it writes are poor. Find out why and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 8)), DATA_DIR/train_y.npy (int64,
labels 0 or 1) and DATA_DIR/test_X.npy; writes OUTPUT_DIR/probabilities.npy, one
probability of class 1 per row of test_X. Both folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 200
LEARNING_RATE = 0.005
WEIGHT_DECAY = 1.0
HIDDEN = 16

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

model = nn.Sequential(
    nn.Linear(train_X.shape[1], HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 1),
    nn.Sigmoid(),
)
loss_fn = nn.BCEWithLogitsLoss()  # numerically stable binary cross-entropy
optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)


def predict_proba(X):
    """Probability of class 1 for each row of X."""
    model.eval()
    with torch.no_grad():
        logits = model(X).squeeze(1)
    return torch.sigmoid(logits)


for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    logits = model(train_X).squeeze(1)
    loss = loss_fn(logits, train_y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  training loss {loss.item():.4f}")

train_p = predict_proba(train_X)
train_accuracy = ((train_p > 0.5).float() == train_y).float().mean().item()
print(f"training accuracy {train_accuracy:.3f}, mean predicted probability {train_p.mean():.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "probabilities.npy", predict_proba(test_X).numpy().astype(np.float64))
