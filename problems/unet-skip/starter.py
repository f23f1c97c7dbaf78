"""Segment the ring walls in small noisy images with a tiny U-Net.

The program runs and the training loss goes down, but the predicted masks are poor:
the thin ring walls come out missing or smeared. Find out why and fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 1, 21, 21)), DATA_DIR/train_y.npy
(int64, (n_train, 21, 21), 1 on ring-wall pixels) and DATA_DIR/test_X.npy; writes
OUTPUT_DIR/masks.npy, an int64 array (n, 21, 21) of 0/1, one mask per test image.
Both folders default to ./data and ./output.
"""

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 4
BATCH_SIZE = 16
LEARNING_RATE = 0.02

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()


def conv_block(in_channels, out_channels):
    """Two 3x3 convolutions (same padding), each followed by BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """Two down-sampling levels: 21x21 -> 10x10 -> 5x5 and back up to 21x21."""

    def __init__(self, channels=(6, 12, 24)):
        super().__init__()
        c1, c2, c3 = channels
        self.enc1 = conv_block(1, c1)
        self.enc2 = conv_block(c1, c2)
        self.bottleneck = conv_block(c2, c3)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = conv_block(c2, c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.dec1 = conv_block(c1, c1)
        self.head = nn.Conv2d(c1, 1, 1)

    @staticmethod
    def match(x, skip):
        """Bring the upsampled map to the skip's height and width (odd sizes lose a pixel)."""
        return F.interpolate(x, size=skip.shape[-2:])

    def forward(self, x):
        skip1 = self.enc1(x)  # (B, c1, 21, 21)
        skip2 = self.enc2(self.pool(skip1))  # (B, c2, 10, 10)
        x = self.bottleneck(self.pool(skip2))  # (B, c3, 5, 5)
        x = self.dec2(self.match(self.up2(x), skip2))
        x = self.dec1(self.match(self.up1(x), skip1))
        return self.head(x).squeeze(1)  # one logit per pixel: (B, 21, 21)


model = UNet()
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
steps_per_epoch = (len(train_X) + BATCH_SIZE - 1) // BATCH_SIZE
scheduler = torch.optim.lr_scheduler.OneCycleLR(
    optimizer, max_lr=LEARNING_RATE, total_steps=EPOCHS * steps_per_epoch
)

n = len(train_X)
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = loss_fn(model(train_X[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(batch)
    print(f"epoch {epoch}  mean training loss {total / n:.4f}")


def dice(pred, target):
    """Dice (F1) of the positive class over all pixels."""
    overlap = (pred * target).sum()
    return (2 * overlap / (pred.sum() + target.sum()).clamp(min=1)).item()


model.eval()
with torch.no_grad():
    train_masks = (model(train_X) > 0).float()
    masks = (model(test_X) > 0).long()
print(f"training dice {dice(train_masks, train_y):.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "masks.npy", masks.numpy().astype(np.int64))
