"""Wrong: a threshold of 8 on the logits labels almost every point 0."""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

# TODO(setter): replace with a plausible but wrong fix of your starter.
torch.manual_seed(0)
train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

model = nn.Linear(train_X.shape[1], 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.BCEWithLogitsLoss()
for _ in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(train_X).squeeze(1), train_y)
    loss.backward()
    optimizer.step()

with torch.no_grad():
    predictions = (model(test_X).squeeze(1) > 8.0).long().numpy()
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions)
