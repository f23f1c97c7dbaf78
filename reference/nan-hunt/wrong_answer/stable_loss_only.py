"""Wrong: fixes the loss but leaves the features unscaled.

BCEWithLogitsLoss no longer turns saturated sigmoids into nan, so the printed
loss is a number now; but with income and balance in the tens of thousands to
millions, the first SGD step at learning rate 0.1 moves the weights by
thousands, every ReLU dies or every logit explodes, and the model ends up
predicting one class for (almost) everyone.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 300
LEARNING_RATE = 0.1
HIDDEN = 32

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()


binary_cross_entropy = nn.BCEWithLogitsLoss()  # log-sum-exp form: stable for any logit


model = nn.Sequential(
    nn.Linear(train_X.shape[1], HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    logits = model(train_X).squeeze(1)
    loss = binary_cross_entropy(logits, train_y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  training loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    train_accuracy = ((model(train_X).squeeze(1) > 0).float() == train_y).float().mean().item()
    predictions = (torch.sigmoid(model(test_X).squeeze(1)) > 0.5).long()
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
