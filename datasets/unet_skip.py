"""Noisy 21x21 images of thin rings and filled disks; the mask marks the ring walls only.

make(rng, n, size=21, noise=0.25, disks=0.6, wall_min=0.8, wall_max=1.6)
    -> {"X": float32 (n, 1, size, size), "y": int64 (n, size, size)}

Every image holds one or two rings (outer radius 3-6.5 px, wall `wall_min`-`wall_max` px
thick) and, for each of two more slots with probability `disks`, a filled disk (radius
1.5-4 px) as a distractor; objects never overlap. Centres and radii are continuous, so
boundaries fall between pixel centres. Objects have brightness 0.8-1.2 on a dark
background with a faint random linear gradient, plus Gaussian noise of scale `noise`.
The mask is 1 on the pixels whose centre lies in a ring's wall and 0 elsewhere (disks
included): telling a ring from a disk needs context, placing a thin wall to the pixel
needs full-resolution detail.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PLACEMENT_TRIES = 30


def _place(
    rng: np.random.Generator, size: int, radius: float, placed: list[tuple[float, float, float]]
) -> tuple[float, float] | None:
    """A centre for a circle of `radius` inside the image, clear of those placed, or None."""
    for _ in range(PLACEMENT_TRIES):
        cy, cx = rng.uniform(radius - 1.0, size - radius, size=2)
        if all(np.hypot(cy - y, cx - x) > radius + r + 1.5 for y, x, r in placed):
            return float(cy), float(cx)
    return None


def make(
    rng: np.random.Generator,
    n: int,
    size: int = 21,
    noise: float = 0.25,
    disks: float = 0.6,
    wall_min: float = 0.8,
    wall_max: float = 1.6,
) -> dict[str, Any]:
    """Draw n noisy images of rings and disks with their ring-wall masks."""
    X = np.zeros((n, 1, size, size), dtype=np.float64)
    y = np.zeros((n, size, size), dtype=np.int64)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    for i in range(n):
        image = np.zeros((size, size))
        mask = np.zeros((size, size), dtype=bool)
        placed: list[tuple[float, float, float]] = []
        rings = int(rng.integers(1, 3))
        for k in range(rings + 2):
            is_ring = k < rings
            if not is_ring and rng.random() >= disks:
                continue
            radius = rng.uniform(3.0, 6.5) if is_ring else rng.uniform(1.5, 4.0)
            centre = _place(rng, size, radius, placed)
            if centre is None:
                continue
            placed.append((*centre, radius))
            dist = np.hypot(yy - centre[0], xx - centre[1])
            if is_ring:
                inside = (dist <= radius) & (dist >= radius - rng.uniform(wall_min, wall_max))
                mask |= inside
            else:
                inside = dist <= radius
            image[inside] = rng.uniform(0.8, 1.2)
        slope = rng.normal(0.0, 0.01, size=2)
        image += slope[0] * (yy - size / 2) + slope[1] * (xx - size / 2)
        image += rng.normal(0.0, noise, size=image.shape)
        X[i, 0] = image
        y[i] = mask
    return {"X": X.astype(np.float32), "y": y}
