"""NumPy implementations of the corpus programs' kernels, for pto-run: arguments in
declaration order, tensors as NumPy arrays shaped like the argument (outputs are written
in place), scalars as Python numbers. Each group names the program that uses it."""

from __future__ import annotations

import numpy as np

F32 = np.float32


# vector_example.pto
def add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    c[...] = a + b


def add_scalar(x: np.ndarray, y: np.ndarray, addend: float, count: int) -> None:
    del count
    y[...] = x + F32(addend)


def mul(a: np.ndarray, b: np.ndarray, c: np.ndarray, count: int) -> None:
    del count
    c[...] = a * b


# alternating_matmul_add.pto, chip_swimlane.pto, mixed_example.pto
def tile_matmul(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    """c = a @ b for each 128x128 tile of the flat views."""
    tiles = a.size // (128 * 128)
    shape = (tiles, 128, 128)
    c[...] = np.matmul(a.reshape(shape), b.reshape(shape)).reshape(c.shape)


# benchmark_bgemm.pto
def group_gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, config: np.ndarray) -> None:
    """c = a @ b for each tile_size x tile_size tile of the group."""
    n = int(config[0])
    c[...] = np.matmul(a.reshape(-1, n, n), b.reshape(-1, n, n)).reshape(c.shape)


def tile_add(c: np.ndarray, p: np.ndarray, config: np.ndarray) -> None:
    del config
    c[...] += p


# heap_empty_ring_rebase.pto (the runtime's kernels touch the first element only)
def write_const(t: np.ndarray) -> None:
    t.reshape(-1)[0] = F32(42.0)


def copy_first(t: np.ndarray, y: np.ndarray) -> None:
    y.reshape(-1)[0] = t.reshape(-1)[0]


# mixed_example.pto: one function per mixed task, doing every slot's part
def matmul_add_mul(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray,
                   e: np.ndarray, f: np.ndarray, g: np.ndarray, h: np.ndarray,
                   i: np.ndarray) -> None:
    tile_matmul(a, b, c)
    f[...] = d + e
    i[...] = g * h


def add_mul(d: np.ndarray, e: np.ndarray, f: np.ndarray, g: np.ndarray, h: np.ndarray,
            i: np.ndarray) -> None:
    f[...] = d + e
    i[...] = g * h


def matmul_add(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, e: np.ndarray,
               f: np.ndarray) -> None:
    tile_matmul(a, b, c)
    f[...] = d + e


# spmd_basic.pto: the three slots' kernels for a launch of one block (block index 0)
def spmd_read(output: np.ndarray) -> None:
    lines = output.reshape(3, 16)
    lines[0, :2] = (0.0, 1.0)
    lines[1, :3] = (0.0, 1.0, 0.0)
    lines[2, :3] = (0.0, 1.0, 1.0)


# prefetch_async_demo.pto
def copy(src: np.ndarray, dst: np.ndarray) -> None:
    dst[...] = src
