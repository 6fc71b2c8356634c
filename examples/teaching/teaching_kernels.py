"""NumPy implementations of the teaching examples' kernels, for pto-run: arguments in
declaration order, tensors as numpy arrays (outputs written in place)."""

from __future__ import annotations

import numpy as np


# chain.pto
def add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    c[...] = a + b


def scale(x: np.ndarray, y: np.ndarray, s: float) -> None:
    y[...] = x * np.float32(s)


def relu(x: np.ndarray, y: np.ndarray) -> None:
    y[...] = np.maximum(x, 0)


# diamond_manual.pto
def split(x: np.ndarray, y: np.ndarray) -> None:
    y[...] = 2 * x


def left(x: np.ndarray, y: np.ndarray) -> None:
    y[...] = x + 1


def right(x: np.ndarray, y: np.ndarray) -> None:
    y[...] = x * x


def join(left_half: np.ndarray, right_half: np.ndarray, y: np.ndarray) -> None:
    y[...] = left_half + right_half


# nested_scopes.pto
def init(acc: np.ndarray) -> None:
    acc[...] = 0


def tile(x: np.ndarray, y: np.ndarray) -> None:
    y[...] = 2 * x


def accum(y: np.ndarray, acc: np.ndarray) -> None:
    acc += y


def store(acc: np.ndarray, dst: np.ndarray) -> None:
    dst[...] = acc
