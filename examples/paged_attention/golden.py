"""Golden of the paged-attention examples for pto-run: the whole computation in plain
NumPy, written from the runtime's math, independent of the kernels.

`paged_attention(inputs)` takes the entry's tensors, scalars and shape symbols by name
and returns the expected contents of the output tensor `out`. The bf16 caches come as
pto-run's Bf16Array: indexing one block gives that block as float32.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _round_bf16(x: np.ndarray) -> np.ndarray:
    u = np.ascontiguousarray(x, dtype=F32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(F32)


def paged_attention(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    q = np.asarray(inputs["query"], dtype=F32)  # [B, H, D]
    # [TB, BS, 1, D] each, bf16: indexed a block at a time, so only that block becomes float32
    k, v = inputs["key_cache"], inputs["value_cache"]
    table = np.asarray(inputs["block_table"])
    lens = np.asarray(inputs["context_lens"])
    scale = F32(inputs["scale"])  # type: ignore[arg-type]
    batch, heads, dim = q.shape
    bs = k.shape[1]
    out = np.zeros((batch, heads, dim), dtype=F32)
    for b in range(batch):
        o = l_sum = m = None
        for bn in range(-(-int(lens[b]) // bs)):
            valid = min(max(int(lens[b]) - bn * bs, 0), bs)
            blk = int(table[b, bn])
            k_blk, v_blk = k[blk, :, 0, :], v[blk, :, 0, :]
            s = (q[b] @ k_blk.T) * scale
            s[:, valid:] = -np.inf
            m_j = np.maximum(s.max(axis=1), F32(-1e30))
            p = np.exp(s - m_j[:, None])
            p[:, valid:] = 0
            p = _round_bf16(p)
            l_j, o_j = p.sum(axis=1), p @ v_blk
            if o is None:
                o, l_sum, m = o_j, l_j, m_j
                continue
            m_new = np.maximum(m, m_j)
            alpha, beta = np.exp(m - m_new), np.exp(m_j - m_new)
            l_sum = alpha * l_sum + beta * l_j
            o = alpha[:, None] * o + beta[:, None] * o_j
            m = m_new
        if o is not None:
            out[b] = o / l_sum[:, None]
    return {"out": out}
