"""Wrong: blames weight decay and removes it, but the encoder is still trained.

Switching AdamW to Adam without weight decay stops the decay of the encoder's
weights, yet the optimizer still holds them and their gradients still flow: the
encoder drifts just as before and overfits the 200 training rows.
"""

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

CHANNELS = 32
FEATURES = 256
CLASSES = 3
EPOCHS = 300
LEARNING_RATE = 0.03
WEIGHT_DECAY = 0.01


class Cosine(nn.Module):
    def forward(self, x):
        return torch.cos(x)


def build_encoder():
    """The pretrained encoder: 32 channels in, 256 features out (do not change)."""
    generator = torch.Generator().manual_seed(2024)
    linear = nn.Linear(CHANNELS, FEATURES)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[:, :2] = 3.0 * torch.randn(FEATURES, 2, generator=generator)
        linear.bias.uniform_(0.0, 2 * math.pi, generator=generator)
    return nn.Sequential(linear, Cosine())


torch.manual_seed(0)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

encoder = build_encoder()
encoder.eval()  # frozen: the pretrained encoder is not trained here
probe = nn.Linear(FEATURES, CLASSES)
model = nn.Sequential(encoder, probe)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

for epoch in range(EPOCHS):
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
