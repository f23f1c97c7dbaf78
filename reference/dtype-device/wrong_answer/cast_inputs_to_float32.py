"""Wrong: casts the inputs to float32 as they are loaded, before standardizing.

It runs, but between 2.2e9 and 4.2e9 float32 numbers are 256 apart, so every
reading is rounded to a multiple of 256 Hz and the deviations of a few tens of hertz
that carry the class are mostly erased. The model then learns little more than
chance.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 400
LEARNING_RATE = 0.01

torch.manual_seed(0)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()


class Standardize(nn.Module):
    """Subtract the training mean and divide by the training std, column by column."""

    def __init__(self, X):
        super().__init__()
        self.register_buffer("mean", X.mean(dim=0))
        self.register_buffer("std", X.std(dim=0))

    def forward(self, x):
        return (x - self.mean) / self.std


model = nn.Sequential(
    Standardize(train_X),
    nn.Linear(4, 64),
    nn.ReLU(),
    nn.Linear(64, 64),
    nn.ReLU(),
    nn.Linear(64, 3),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(train_X), train_y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  training loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    train_accuracy = (model(train_X).argmax(dim=1) == train_y).float().mean().item()
    predictions = model(test_X).argmax(dim=1)
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
