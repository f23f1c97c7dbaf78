"""Wrong: keeps dict(model.state_dict()), a new dict holding the very same tensors, which
go on changing with training; the restored model is the last one, not the best.
"""

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

N_TRAIN, N_VAL, FEATURES, HIDDEN, BATCH_SIZE = 32, 64, 4, 32, 8


def make_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(N_TRAIN + N_VAL, FEATURES))
    w = rng.normal(0.0, 1.0, size=FEATURES)
    y = 3.0 * np.sin(X @ w) + X[:, 0] + rng.normal(0.0, 0.5, size=N_TRAIN + N_VAL)
    X, y = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def make_model(seed, dropout, audit):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Dropout(dropout), nn.Linear(HIDDEN, 1)
    ).double()

    def count(module, inputs, output):
        if not module.training and torch.is_grad_enabled():
            audit["eval_forwards_with_grad"] += 1

    model.register_forward_hook(count)
    return model


def fit(seed, epochs, lr, max_grad_norm, dropout):
    X_train, y_train, X_val, y_val = make_data(seed)
    audit = {"eval_forwards_with_grad": 0}
    model = make_model(seed, dropout, audit)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.MSELoss()

    train_losses, val_losses = [], []
    best_val, best_epoch, best_state = float("inf"), -1, None
    for epoch in range(epochs):
        model.train()
        batch_losses = []
        for start in range(0, N_TRAIN, BATCH_SIZE):
            xb, yb = X_train[start : start + BATCH_SIZE], y_train[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            batch_losses.append(loss.item())
        train_losses.append(sum(batch_losses) / len(batch_losses))

        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        val_losses.append(val_loss)
        if val_loss < best_val:
            best_val, best_epoch = val_loss, epoch
            best_state = dict(model.state_dict())

    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        restored_val = loss_fn(model(X_val), y_val).item()
    return [
        *train_losses,
        *val_losses,
        best_epoch,
        best_val,
        restored_val,
        audit["eval_forwards_with_grad"],
    ]
