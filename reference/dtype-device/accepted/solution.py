"""Reference: standardize in float64, then cast to float32 for the layers.

The readings are 2.2e9 to 4.2e9 Hz and the information is in deviations of tens of
hertz. float64 keeps about 16 significant digits, float32 only about 7: there,
neighbouring float32 numbers are 256 apart. The starter fed float64
tensors into float32 nn.Linear layers and crashed; the quick fix of casting the
inputs to float32 runs, but it rounds every reading to a multiple of 256
Hz before the offset is removed, and the deviations are gone. Subtracting the
mean and dividing by the std in float64 first leaves numbers of order 1, which
float32 represents to 7 digits.
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

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy"))
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy"))


class Standardize(nn.Module):
    """Subtract the training mean and divide by the training std, column by column."""

    def __init__(self, X):
        super().__init__()
        self.register_buffer("mean", X.mean(dim=0))
        self.register_buffer("std", X.std(dim=0))

    def forward(self, x):
        # Remove the huge offsets in float64, then hand float32 to the float32 layers.
        return ((x - self.mean) / self.std).to(torch.float32)


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
