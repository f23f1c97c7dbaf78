"""Wrong: drops the extra sigmoid in predict_proba only; training still squashes twice.

The written values are now the model's own outputs p, but the model was trained
through BCEWithLogitsLoss, i.e. to make sigmoid(p), which only reaches 0.5..0.73,
match the labels. For a case whose true probability q is below 0.5 the best p
is 0, and above 0.73 it is 1, so the outputs are pushed to the extremes: badly
calibrated, and the log loss punishes every confident mistake.
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
        return model(X).squeeze(1)


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
