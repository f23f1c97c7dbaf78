"""Loan defaults from six raw, unscaled account features.

make(rng, n, collections=0.02) -> {"X": float32 (n, 6), "y": int64 (n,)}

Columns, in their natural units:
    0 age               years, uniform 21..75
    1 income            dollars a year, log-normal around 55,000
    2 balance           dollars owed, Pareto tail (alpha 1.3) from 2,000: a few
                        rows owe millions
    3 utilization       share of the credit limit used, 0..1.2
    4 tenure            days as a customer, uniform 30..9,000
    5 late_payments     count, Poisson(1); a share `collections` of the accounts
                        are in collections, with 15..40 late payments

The default probability is a logistic function of utilization, late payments,
log(balance / income), tenure and age. About half of the accounts default; the
Bayes accuracy is about 0.80. Accounts in collections default almost surely (true
logit 15 to 45), so a model that fits them well is very sure about them, and the
heavy-tailed balance puts a few rows tens of standard deviations from the mean:
both are meant to break a numerically naive loss and a learning rate chosen
without looking at the features' scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def true_logit(X: np.ndarray) -> np.ndarray:
    """The log-odds of default of each row of X (columns as above)."""
    age, income, balance, utilization, tenure, late = np.asarray(X, dtype=np.float64).T
    return (
        5.0 * (utilization - 0.53)
        + 1.1 * (late - 1.0)
        + 1.2 * (np.log(balance / income) + 2.6)
        - 0.5 * (tenure - 4_500) / 2_600
        - 0.02 * (age - 48)
    )


def make(rng: np.random.Generator, n: int, collections: float = 0.02) -> dict[str, Any]:
    """Draw n accounts and whether each defaulted (1) or not (0)."""
    age = rng.uniform(21, 75, size=n)
    income = 55_000 * np.exp(0.45 * rng.normal(size=n))
    balance = 2_000 * (1.0 + rng.pareto(1.3, size=n))
    utilization = np.clip(rng.beta(2.0, 2.5, size=n) * 1.2, 0.0, 1.2)
    tenure = rng.uniform(30, 9_000, size=n)
    late = rng.poisson(1.0, size=n).astype(np.float64)
    in_collections = rng.random(n) < collections
    late[in_collections] = rng.integers(15, 41, size=int(in_collections.sum()))
    X = np.stack([age, income, balance, utilization, tenure, late], axis=1)
    p = 1.0 / (1.0 + np.exp(-true_logit(X)))
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return {"X": X.astype(np.float32), "y": y}
