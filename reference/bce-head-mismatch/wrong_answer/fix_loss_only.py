"""Wrong: switches to BCELoss for training but keeps the extra sigmoid in predict_proba.

Training is now consistent (the model's Sigmoid output goes to BCELoss), but
predict_proba still applies torch.sigmoid to what is already a probability, so
every written value lies between 0.5 and 0.73 and the log loss stays high.
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
loss_fn = nn.BCELoss()  # the model already ends in a sigmoid
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
