"""Oscillator frequencies in hertz: tiny class-bearing deviations on huge offsets.

make(rng, n, channels=4, spread=20.0, turns=0.75, noise=0.06, low=2.2e9, high=4.2e9)
-> {"X": float64 (n, channels), "y": int64 (n,)}

Each column j has a nominal frequency f_j drawn once per call, uniform in
[low, high] hertz and rounded to a whole kHz. Each row picks a class c in
{0, 1, 2} and a position t along spiral arm c; its deviations from nominal in
columns 0 and 1 are spread * t * (cos, sin)(2*pi*(turns * t + c / 3)) plus
Gaussian noise of scale noise * spread; the other columns deviate by Gaussian
noise of scale spread / 2 that carries no information. X holds f_j + deviation,
in float64. In float32, numbers between 2.2e9 and 4.2e9 are 256 apart, so casting X to
float32 before removing the offsets erases most of the deviations.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def make(
    rng: np.random.Generator,
    n: int,
    channels: int = 4,
    spread: float = 20.0,
    turns: float = 0.75,
    noise: float = 0.06,
    low: float = 2.2e9,
    high: float = 4.2e9,
) -> dict[str, Any]:
    """Draw n labelled rows sharing one set of nominal frequencies."""
    nominal = np.round(rng.uniform(low, high, size=channels), -3)
    y = rng.integers(0, 3, size=n)
    t = np.sqrt(rng.uniform(0.03, 1.0, size=n))
    angle = 2 * np.pi * (turns * t + y / 3)
    deviation = np.empty((n, channels))
    deviation[:, 0] = t * np.cos(angle)
    deviation[:, 1] = t * np.sin(angle)
    deviation[:, :2] += rng.normal(0.0, noise, size=(n, 2))
    deviation[:, 2:] = rng.normal(0.0, 0.5, size=(n, channels - 2))
    X = nominal[None, :] + spread * deviation
    return {"X": X.astype(np.float64), "y": y.astype(np.int64)}
