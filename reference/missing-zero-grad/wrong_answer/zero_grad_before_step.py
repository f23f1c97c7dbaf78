"""Wrong: clears the gradients between backward() and step().

The gradients are now zero when the optimizer uses them, so the weights never
move: step() sees nothing to do and the model stays at its random start.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 200
BATCH_SIZE = 32
LEARNING_RATE = 0.05

torch.manual_seed(0)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

model = nn.Sequential(
    nn.Linear(2, 64),
    nn.ReLU(),
    nn.Linear(64, 64),
    nn.ReLU(),
    nn.Linear(64, 3),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)

n = len(train_X)
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        logits = model(train_X[batch])
        loss = loss_fn(logits, train_y[batch])
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(batch)
    if epoch % 20 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

model.eval()
with torch.no_grad():
    train_accuracy = (model(train_X).argmax(dim=1) == train_y).float().mean().item()
    predictions = model(test_X).argmax(dim=1)
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
