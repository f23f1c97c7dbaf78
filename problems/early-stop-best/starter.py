"""Classify noisily labelled points with an MLP and early stopping.

The program holds out part of the training rows, watches the validation accuracy
and is meant to keep the weights from its best epoch. Its predictions on the hidden
rows are much worse than the best validation accuracy it reports. Fix it.

Reads DATA_DIR/train_X.npy (float32, (n_train, 5)), DATA_DIR/train_y.npy (int64,
labels 0, 1, 2) and DATA_DIR/test_X.npy; writes OUTPUT_DIR/predictions.npy, one
integer label per row of test_X. Both folders default to ./data and ./output.
"""

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", "output"))

MAX_EPOCHS = 1000  # full-batch: one optimizer step per epoch
PATIENCE = 200  # stop after this many epochs without a new best validation accuracy
LEARNING_RATE = 3e-3
HIDDEN = 128
N_VALIDATION = 600

torch.manual_seed(0)
torch.set_num_threads(1)

X = torch.from_numpy(np.load(DATA_DIR / "train_X.npy")).float()
y = torch.from_numpy(np.load(DATA_DIR / "train_y.npy")).long()
test_X = torch.from_numpy(np.load(DATA_DIR / "test_X.npy")).float()
order = torch.randperm(len(X))
fit_X, fit_y = X[order[N_VALIDATION:]], y[order[N_VALIDATION:]]
val_X, val_y = X[order[:N_VALIDATION]], y[order[:N_VALIDATION]]

model = nn.Sequential(
    nn.Linear(X.shape[1], HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN),
    nn.ReLU(),
    nn.Linear(HIDDEN, 3),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def accuracy(inputs, labels):
    model.eval()
    with torch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()


best_accuracy = -1.0
best_epoch = -1
history = []  # validation accuracy of every epoch, for early_stopping.json
best_state = None
epochs_without_improvement = 0
for epoch in range(MAX_EPOCHS):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(fit_X), fit_y)
    loss.backward()
    optimizer.step()

    val_accuracy = accuracy(val_X, val_y)
    history.append(val_accuracy)
    if val_accuracy > best_accuracy:
        best_accuracy = val_accuracy
        best_epoch = epoch
        best_state = model.state_dict()
    else:
        epochs_without_improvement += 1
        if epochs_without_improvement >= PATIENCE:
            break
    if epoch % 50 == 0:
        print(f"epoch {epoch:4d}  loss {loss.item():.4f}  validation accuracy {val_accuracy:.3f}")

print(
    f"stopped after epoch {epoch}; best validation accuracy {best_accuracy:.3f} at epoch {best_epoch}"
)
model.load_state_dict(best_state)
print(f"restored model: validation accuracy {accuracy(val_X, val_y):.3f}")

model.eval()
with torch.no_grad():
    predictions = model(test_X).argmax(dim=1)

OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
np.save(OUTPUT_DIR / "predictions.npy", predictions.numpy().astype(np.int64))
(OUTPUT_DIR / "early_stopping.json").write_text(
    json.dumps({"val_accuracy": history, "best_epoch": best_epoch})
)
