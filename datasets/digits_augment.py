"""Handwritten-looking digits 0-9 rendered from strokes; hidden images are off-centre and noisy.

make(rng, n, n_train=1500, size=16, shift=3.0, noise=0.3, train_noise=0.05)
    -> {"X": float32 (n, size, size) in [0, 1], "y": int64 (n,)}

Each digit is a few polylines in a unit box (a tiny vector font). Every image draws its
own glyph: the control points jitter, the box is 6.5-8.5 px wide and 9-10.5 px tall,
slanted by up to +-0.25, the pen is 1.1-2.0 px wide and 0.75-1 bright, anti-aliased on a
black background. The first `n_train` rows (the training rows; pass the spec's
dataset.n_train) are centred in the image (within +-0.3 px) with faint noise
`train_noise`. The remaining rows (the hidden rows) have their centre moved by up to
`shift` px along each axis (uniform, continuous) and Gaussian noise of scale `noise`.
All values are clipped to [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _ellipse(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    start: float = 0.0,
    stop: float = 360.0,
    points: int = 12,
) -> list[tuple[float, float]]:
    angles = np.deg2rad(np.linspace(start, stop, points))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


# Strokes of each digit: polylines of (x, y) in the unit box, x to the right, y downwards.
GLYPHS: dict[int, list[list[tuple[float, float]]]] = {
    0: [_ellipse(0.5, 0.5, 0.42, 0.5, points=14)],
    1: [[(0.25, 0.22), (0.55, 0.0), (0.55, 1.0)]],
    2: [
        [(0.08, 0.22), (0.3, 0.02), (0.7, 0.02), (0.9, 0.25), (0.8, 0.48), (0.08, 1.0), (0.95, 1.0)]
    ],
    3: [
        [(0.08, 0.1), (0.45, 0.0), (0.85, 0.12), (0.85, 0.38), (0.45, 0.5)],
        [(0.45, 0.5), (0.9, 0.62), (0.9, 0.88), (0.5, 1.0), (0.08, 0.9)],
    ],
    4: [[(0.7, 1.0), (0.7, 0.0), (0.05, 0.68), (0.98, 0.68)]],
    5: [
        [
            (0.9, 0.0),
            (0.18, 0.0),
            (0.12, 0.45),
            (0.55, 0.38),
            (0.9, 0.58),
            (0.88, 0.88),
            (0.5, 1.0),
            (0.08, 0.9),
        ]
    ],
    6: [
        [
            (0.82, 0.05),
            (0.45, 0.05),
            (0.15, 0.45),
            (0.1, 0.78),
            (0.35, 1.0),
            (0.75, 0.95),
            (0.88, 0.7),
            (0.6, 0.5),
            (0.3, 0.52),
            (0.12, 0.7),
        ]
    ],
    7: [[(0.05, 0.0), (0.95, 0.0), (0.4, 1.0)]],
    8: [_ellipse(0.5, 0.24, 0.32, 0.24, points=10), _ellipse(0.5, 0.73, 0.4, 0.27, points=12)],
    9: [_ellipse(0.48, 0.3, 0.36, 0.3, points=12), [(0.84, 0.3), (0.8, 0.65), (0.55, 1.0)]],
}


def _segments(digit: int, rng: np.random.Generator) -> np.ndarray:
    """The glyph's segments (k, 2 points, xy) in the unit box, with jittered control points."""
    segments: list[np.ndarray] = []
    for stroke in GLYPHS[digit]:
        points = np.asarray(stroke) + rng.normal(0.0, 0.03, size=(len(stroke), 2))
        segments.append(np.stack([points[:-1], points[1:]], axis=1))
    return np.concatenate(segments)


def _render(
    segments: np.ndarray, size: int, centre: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw the segments into a size x size image: slant, scale, place, anti-aliased pen."""
    width, height = rng.uniform(6.5, 8.5), rng.uniform(9.0, 10.5)
    slant = rng.uniform(-0.25, 0.25)
    pen, ink = rng.uniform(1.1, 2.0), rng.uniform(0.75, 1.0)
    unit = segments - 0.5  # centred unit box
    x = unit[..., 0] * width - slant * unit[..., 1] * height + centre[0]
    y = unit[..., 1] * height + centre[1]
    a = np.stack([x[:, 0], y[:, 0]], axis=1)  # (k, 2) segment starts
    b = np.stack([x[:, 1], y[:, 1]], axis=1)  # (k, 2) segment ends
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    p = np.stack([xx.ravel(), yy.ravel()], axis=1)  # (pixels, 2) pixel centres
    ab = b - a
    t = ((p[:, None, :] - a[None]) * ab[None]).sum(-1) / np.maximum((ab**2).sum(-1), 1e-9)
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]
    dist = np.sqrt(((p[:, None, :] - closest) ** 2).sum(-1)).min(axis=1)
    image = ink * np.clip(pen / 2 + 0.5 - dist, 0.0, 1.0)
    return image.reshape(size, size)


def make(
    rng: np.random.Generator,
    n: int,
    n_train: int = 1500,
    size: int = 16,
    shift: float = 3.0,
    noise: float = 0.3,
    train_noise: float = 0.05,
) -> dict[str, Any]:
    """Draw n digit images: n_train centred and clean, then off-centre noisy hidden ones."""
    y = rng.integers(0, 10, size=n)
    X = np.zeros((n, size, size))
    for i in range(n):
        hidden = i >= n_train
        offset = rng.uniform(-shift, shift, size=2) if hidden else rng.uniform(-0.3, 0.3, size=2)
        X[i] = _render(_segments(int(y[i]), rng), size, size / 2 + offset, rng)
        X[i] += rng.normal(0.0, noise if hidden else train_noise, size=(size, size))
    return {"X": np.clip(X, 0.0, 1.0).astype(np.float32), "y": y.astype(np.int64)}
