"""Wrong: blames the weight init and swaps He for Xavier; the biases stay at -4.

Xavier weights are a little smaller than He weights, so the weighted sums of the
first layer spread even less and a bias of -4 keeps every ReLU off. The network
is as dead as before and the loss stays at ln 2.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

EPOCHS = 200
LEARNING_RATE = 0.01
HIDDEN = 64
BIAS_INIT = -4.0  # a negative start keeps the first activations sparse

torch.manual_seed(0)
torch.set_num_threads(1)

train_X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
train_y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).float()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()

class MLP(nn.Module):
    """in_features -> 64 -> 64 -> 1 logit, ReLU between the layers."""

    def __init__(self, in_features, hidden=HIDDEN):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(in_features, hidden), nn.Linear(hidden, hidden)])
        self.out = nn.Linear(hidden, 1)
        for layer in self.hidden:
            nn.init.xavier_uniform_(layer.weight)  # Xavier init
            nn.init.constant_(layer.bias, BIAS_INIT)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x).squeeze(1)


model = MLP(train_X.shape[1])
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    logits = model(train_X)
    loss = loss_fn(logits, train_y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:3d}  training loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    train_accuracy = ((model(train_X) > 0).float() == train_y).float().mean().item()
    predictions = (model(test_X) > 0).long()
print(f"training accuracy {train_accuracy:.3f}")

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
