"""Reference: the starter with scheduler.step() moved out of the batch loop.

StepLR(step_size=10) counts calls of scheduler.step(). Called once per
mini-batch (25 per epoch), it halved the learning rate every 10 batches, so
after two epochs it was about 0.01 / 2**5 and after four about 1e-5: the model
stopped learning early and underfit. Stepping once per epoch gives the intended
0.01, 0.005, 0.0025, 0.00125 over the 40 epochs.
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
# halve the learning rate every 10 epochs: 0.01, 0.005, 0.0025, 0.00125
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=DECAY_EVERY, gamma=DECAY_FACTOR)

n = len(train_X)
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
        total += loss.item() * len(batch)
    scheduler.step()  # once per epoch: step_size counts epochs
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  mean training loss {total / n:.4f}")

model.eval()
with torch.no_grad():
    train_mse = loss_fn(model(train_X).squeeze(1), train_y).item()
    predictions = model(test_X).squeeze(1)
print(f"training MSE {train_mse:.4f}  (variance of the targets {train_y.var().item():.4f})")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.float32))
