"""Goldens of the teaching examples for pto-run: each entry's outputs computed directly
from its inputs (one function per entry, named like it)."""

from __future__ import annotations

from typing import Any

import numpy as np


def chain(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    a, b = inputs["a"], inputs["b"]
    return {"y": np.maximum((a + b) * np.float32(inputs["s"]), 0)}


def diamond(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    x = inputs["x"]
    half = x.shape[0] // 2
    return {"y": (2 * x[:half] + 1) + (2 * x[half:]) ** 2}


def nested(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    x, t = inputs["x"], inputs["T"]
    tiles = x.reshape(-1, t, x.shape[1])
    return {"out": 2 * tiles.sum(axis=0)}
