"""Also accepted: keep scheduler.step() in the batch loop, count the schedule in steps.

If the scheduler is stepped once per optimizer step, every length in the
schedule must be measured in optimizer steps too: 10 epochs are
10 * batches_per_epoch steps. This gives exactly the same learning rates as the
reference, which steps once per epoch.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 40
BATCH_SIZE = 32
LEARNING_RATE = 0.01
DECAY_EVERY = 10  # epochs
DECAY_FACTOR = 0.5

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

model = nn.Sequential(
    nn.Linear(2, 64),
    nn.Tanh(),
    nn.Linear(64, 64),
    nn.Tanh(),
    nn.Linear(64, 1),
)
loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
n = len(train_X)
batches_per_epoch = (n + BATCH_SIZE - 1) // BATCH_SIZE
# halve the learning rate every 10 epochs = every 10 * batches_per_epoch optimizer steps
scheduler = torch.optim.lr_scheduler.StepLR(
    optimizer, step_size=DECAY_EVERY * batches_per_epoch, gamma=DECAY_FACTOR
)

for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_X[batch]).squeeze(1), train_y[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(batch)
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

model.eval()
with torch.no_grad():
    train_mse = loss_fn(model(train_X).squeeze(1), train_y).item()
    predictions = model(test_X).squeeze(1)
print(f"training MSE {train_mse:.4f}  (variance of the targets {train_y.var().item():.4f})")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.float32))
