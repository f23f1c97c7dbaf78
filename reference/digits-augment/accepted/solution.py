"""Reference: the starter's MLP trained on shifted, noisy copies of the training images.

The training images are centred and clean; the test images are off-centre and noisy. An
MLP has one weight per pixel and class, so a stroke it has only ever seen at pixel (5, 7)
means nothing to it at pixel (7, 9), and noise it never saw throws it off: clean
validation accuracy near 1 says nothing about such images. Each batch is now augmented
with random shifts of up to 4 pixels and Gaussian noise of random strength, so the model
learns the digits wherever they sit. A second validation set, augmented the same way,
estimates the accuracy on the test images far better than the clean one.
"""

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 20
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
HIDDEN = 256
VALIDATION = 300  # images held out to measure accuracy
MAX_SHIFT = 4  # pixels, each way: more than the test images seem to move
MAX_NOISE = 0.35  # largest standard deviation of the added noise

torch.manual_seed(0)
torch.set_num_threads(1)

images = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
labels = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

order = torch.randperm(len(images))
val_idx, train_idx = order[:VALIDATION], order[VALIDATION:]
train_X, train_y = images[train_idx], labels[train_idx]
val_X, val_y = images[val_idx], labels[val_idx]

side = images.shape[-1]


def augment(x, generator=None):
    """Move each image by a random whole number of pixels and add noise of random strength.

    Shifting: pad MAX_SHIFT black pixels on every side, then cut a side x side window at
    a random offset. Noise: Gaussian with a standard deviation drawn per image from
    [0, MAX_NOISE], clipped back to [0, 1] like the pixels of the photographs.
    """
    b = len(x)
    padded = F.pad(x, (MAX_SHIFT, MAX_SHIFT, MAX_SHIFT, MAX_SHIFT))
    dy = torch.randint(0, 2 * MAX_SHIFT + 1, (b, 1), generator=generator)
    dx = torch.randint(0, 2 * MAX_SHIFT + 1, (b, 1), generator=generator)
    rows = (dy + torch.arange(side))[:, :, None]  # (b, side, 1)
    cols = (dx + torch.arange(side))[:, None, :]  # (b, 1, side)
    shifted = padded[torch.arange(b)[:, None, None], rows, cols]
    sigma = MAX_NOISE * torch.rand(b, 1, 1, generator=generator)
    noise = torch.randn(shifted.shape, generator=generator)
    return (shifted + sigma * noise).clamp(0.0, 1.0)


# A validation set that looks like the test images: the clean one says little about them.
hard_val_X = augment(val_X, generator=torch.Generator().manual_seed(1))
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(side * side, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def accuracy(x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


n = len(train_X)
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(n)
    for start in range(0, n, BATCH_SIZE):
        batch = perm[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(augment(train_X[batch])), train_y[batch])
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        print(
            f"epoch {epoch + 1:2d}  train accuracy {accuracy(train_X, train_y):.3f}"
            f"  validation accuracy {accuracy(val_X, val_y):.3f}"
            f"  shifted+noisy validation accuracy {accuracy(hard_val_X, val_y):.3f}"
        )

model.eval()
with torch.no_grad():
    predictions = model(test_X).argmax(dim=1)

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
