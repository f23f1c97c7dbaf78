"""Wrong: "early stopping" that watches the training loss.

It keeps the weights from the epoch with the lowest training loss. But the
training loss keeps falling while the model memorises the noise, so the best
epoch is (nearly) the last one and nothing is gained. Early stopping must watch
the loss on rows held out from training.
"""

import copy
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


best_loss, best_state = float("inf"), None
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_X[batch]).squeeze(1), train_y[batch])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        watched = loss_fn(model(train_X).squeeze(1), train_y).item()
    if watched < best_loss:
        best_loss, best_state = watched, copy.deepcopy(model.state_dict())
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            fit = r2_score(train_y, model(train_X).squeeze(1))
        print(f"epoch {epoch:3d}  training R^2 {fit:.3f}")

model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    predictions = model(test_X).squeeze(1)

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.float64))
