"""NumPy implementations of the paged-attention kernels, for
pto-run. Each function gets the kernel's arguments in declaration order: tensors as
numpy arrays (bf16 data held as float32; outputs are written in place) and scalars as
numbers. Matmuls accumulate in float32 as the cube unit does.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def to_bf16(a: np.ndarray) -> np.ndarray:
    """Round float32 to the nearest bfloat16 (ties to even), as CAST_ROUND does."""
    bits = np.ascontiguousarray(a, dtype=F32).view(np.uint32)
    bits = (bits + (np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1)))) & np.uint32(0xFFFF0000)
    return bits.view(F32)


# ---- non-unroll kernels -------------------------------------------------

def qk(qi: np.ndarray, kj: np.ndarray, sij: np.ndarray) -> None:
    """sij = qi @ kj^T, no scaling."""
    sij[...] = qi.astype(F32) @ kj.astype(F32).T


def softmax_prepare(sij: np.ndarray, pij: np.ndarray, mij: np.ndarray, lij: np.ndarray,
                    scale: float) -> None:
    """sij is the view of the valid columns; the rest of the block is masked with -inf."""
    valid = sij.shape[1]
    s = np.full(pij.shape, -np.inf, dtype=F32)
    s[:, :valid] = sij * F32(scale)
    m = s.max(axis=1)
    p = to_bf16(np.exp(s - m[:, None]))
    pij[...] = p
    mij[...] = m
    lij[...] = p.sum(axis=1, dtype=F32)


def pv(pij: np.ndarray, vj: np.ndarray, oi_new: np.ndarray) -> None:
    oi_new[...] = pij.astype(F32) @ vj.astype(F32)


def online_update(mij: np.ndarray, lij: np.ndarray, oi_new: np.ndarray, mi: np.ndarray,
                  li: np.ndarray, oi: np.ndarray, dst: np.ndarray, is_first: int,
                  is_last: int) -> None:
    if is_first:
        mi[...], li[...], oi[...] = mij, lij, oi_new
        if is_last:
            dst[...] = oi_new / lij[:, None]
        return
    m = np.maximum(mi, mij)
    alpha, beta = np.exp(mi - m), np.exp(mij - m)
    li[...] = alpha * li + beta * lij
    o = alpha[:, None] * oi + beta[:, None] * oi_new
    mi[...] = m
    if is_last:
        dst[...] = o / li[:, None]  # in this branch oi itself is not written back
    else:
        oi[...] = o


# ---- unroll kernels: tiles are stacked [n, q_tile, BS] in memory ----------

def _blocks(block_table: np.ndarray, offset: int, n: int) -> np.ndarray:
    return block_table.reshape(-1)[offset:offset + n]


def qk_unroll(qi: np.ndarray, key_cache: np.ndarray, block_table: np.ndarray,
              sij: np.ndarray, n_blocks: int, bt_offset: int) -> None:
    rows = qi.shape[0]
    bs = sij.shape[1] // n_blocks
    tiles = sij.reshape(-1).reshape(n_blocks, rows, bs)
    q = qi.astype(F32)
    for i, blk in enumerate(_blocks(block_table, bt_offset, n_blocks)):
        tiles[i] = q @ key_cache[blk * bs:(blk + 1) * bs].astype(F32).T


def softmax_prepare_unroll(sij: np.ndarray, pij: np.ndarray, mij: np.ndarray,
                           lij: np.ndarray, scale: float, n_blocks: int,
                           valid_len_last: int) -> None:
    rows = sij.shape[0]
    bs = sij.shape[1] // n_blocks
    tiles = sij.reshape(-1).reshape(n_blocks, rows, bs).copy()
    tiles[-1, :, valid_len_last:] = -np.inf
    m = F32(scale) * tiles.max(axis=(0, 2))
    p = to_bf16(np.exp(tiles * F32(scale) - m[None, :, None]))
    pij.reshape(-1)[...] = p.reshape(-1)
    mij[...] = m
    lij[...] = p.sum(axis=(0, 2), dtype=F32)


def pv_unroll(pij: np.ndarray, value_cache: np.ndarray, block_table: np.ndarray,
              oi_new: np.ndarray, n_blocks: int, bt_offset: int) -> None:
    rows = pij.shape[0]
    bs = pij.shape[1] // n_blocks
    tiles = pij.reshape(-1).reshape(n_blocks, rows, bs).astype(F32)
    acc = np.zeros(oi_new.shape, dtype=F32)
    for i, blk in enumerate(_blocks(block_table, bt_offset, n_blocks)):
        acc += tiles[i] @ value_cache[blk * bs:(blk + 1) * bs].astype(F32)
    oi_new[...] = acc
