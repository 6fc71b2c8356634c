"""NumPy implementations of the corpus programs' kernels, for pto-run: arguments in
declaration order, tensors as NumPy arrays shaped like the argument (outputs are written
in place), scalars as Python numbers. Each group names the program that uses it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

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


# args_dump.pto: MUL is given its count twice
def mul_twice(a: np.ndarray, b: np.ndarray, c: np.ndarray, count: int, again: int) -> None:
    del count, again
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


# spmd_multiblock_aiv.pto: one block of the SPMD vector kernel
def spmd_write_aiv(output: np.ndarray, base_cl: int, *, block_idx: int,
                   block_num: int) -> None:
    del block_num
    output[(base_cl + block_idx) * 16] = block_idx


# spmd_multiblock_mix.pto: one block of the SPMD mixed task, its three slots' lines
def spmd_write_mix(output: np.ndarray, base_cl: int, *, block_idx: int,
                   block_num: int) -> None:
    del block_num
    for slot in range(3):
        output[(base_cl + 3 * block_idx + slot) * 16] = block_idx


# merge_pipeline_barrier.pto: the three stages of all 8 blocks (timing is left alone)
def merge_pipeline(x: np.ndarray, barrier: np.ndarray, s1: np.ndarray, s2: np.ndarray,
                   result: np.ndarray, timing: np.ndarray) -> None:
    del barrier, timing
    s1[...] = x + F32(1.0)
    s2[...] = s1 * F32(2.0)
    result[...] = s2 + F32(1.0)


# prefetch_async_demo.pto
def copy(src: np.ndarray, dst: np.ndarray) -> None:
    dst[...] = src


# paged_attention_unroll_4dims.pto: the grouped-block paged-attention kernels of
# examples/paged_attention on 2-D views of the 4-D arguments ([1, 1, rows, cols] tiles and
# [TB, BS, 1, D] caches).
def _sibling(folder: str, name: str) -> ModuleType:
    path = Path(__file__).resolve().parent.parent / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"corpus_{folder}_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PA = _sibling("paged_attention", "pa_kernels")


def _2d(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1])


def _1d(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1)


def qk_unroll_4d(qi: np.ndarray, key_cache: np.ndarray, block_table: np.ndarray,
                 sij: np.ndarray, n_blocks: int, bt_offset: int) -> None:
    _PA.qk_unroll(_2d(qi), _2d(key_cache), block_table, _2d(sij), n_blocks, bt_offset)


def softmax_prepare_unroll_4d(sij: np.ndarray, pij: np.ndarray, mij: np.ndarray,
                              lij: np.ndarray, scale: float, n_blocks: int,
                              valid_len_last: int) -> None:
    _PA.softmax_prepare_unroll(_2d(sij), _2d(pij), _1d(mij), _1d(lij), scale, n_blocks,
                               valid_len_last)


def pv_unroll_4d(pij: np.ndarray, value_cache: np.ndarray, block_table: np.ndarray,
                 oi_new: np.ndarray, n_blocks: int, bt_offset: int) -> None:
    _PA.pv_unroll(_2d(pij), _2d(value_cache), block_table, _2d(oi_new), n_blocks, bt_offset)


def online_update_4d(mij: np.ndarray, lij: np.ndarray, oi_new: np.ndarray, mi: np.ndarray,
                     li: np.ndarray, oi: np.ndarray, dst: np.ndarray, is_first: int,
                     is_last: int) -> None:
    _PA.online_update(_1d(mij), _1d(lij), _2d(oi_new), _1d(mi), _1d(li), _2d(oi), _2d(dst),
                      is_first, is_last)


# spmd_paged_attention.pto: one SPMD block's stride loop over the logical blocks
# (request, head tile), each running the paged-attention pipeline over the request's KV
# blocks with the kernels of examples/paged_attention.
def spmd_paged_attention(query: np.ndarray, key_cache: np.ndarray, value_cache: np.ndarray,
                         block_table: np.ndarray, context_lens: np.ndarray, out: np.ndarray,
                         sij_fifo: np.ndarray, pij_fifo: np.ndarray, oi_fifo: np.ndarray,
                         scale: float, num_heads: int, head_dim: int, block_size: int,
                         max_blocks: int, q_loop: int, total: int, q_tile: int, *,
                         block_idx: int, block_num: int) -> None:
    del sij_fifo, pij_fifo, oi_fifo, head_dim, max_blocks
    for logical in range(block_idx, total, block_num):
        b, t = divmod(logical, q_loop)
        row0 = b * num_heads + t * q_tile
        rows = min(q_tile, num_heads - t * q_tile)
        _pa_request(query[row0 : row0 + rows], key_cache, value_cache, block_table[b],
                    int(context_lens[b]), out[row0 : row0 + rows], scale, block_size)


def _pa_request(qi: np.ndarray, key_cache: np.ndarray, value_cache: np.ndarray,
                table: np.ndarray, length: int, dst: np.ndarray, scale: float,
                bs: int) -> None:
    rows, dim = qi.shape
    mi, li, oi = np.empty(rows, F32), np.empty(rows, F32), np.empty((rows, dim), F32)
    nblk = -(-length // bs)
    for bn in range(nblk):
        blk, valid = int(table[bn]), min(bs, length - bn * bs)
        sij = np.empty((rows, valid), F32)
        _PA.qk(qi, key_cache[blk * bs : blk * bs + valid], sij)
        pij, mij, lij = np.empty((rows, bs), F32), np.empty(rows, F32), np.empty(rows, F32)
        _PA.softmax_prepare(sij, pij, mij, lij, scale)
        oi_new = np.empty((rows, dim), F32)
        _PA.pv(pij, value_cache[blk * bs : blk * bs + bs], oi_new)
        _PA.online_update(mij, lij, oi_new, mi, li, oi, dst, bn == 0, bn == nblk - 1)


# batch_paged_attention.pto: the kernels of examples/paged_attention applied to each request
# of a chunk (request batch_start + i takes rows i * q_tile .. of the chunk's tensors).
def _chunk_rows(total: int, chunk_bc: int, i: int) -> slice:
    q_tile = total // chunk_bc
    return slice(i * q_tile, (i + 1) * q_tile)


def batch_qk(query: np.ndarray, key_cache: np.ndarray, block_table: np.ndarray,
             sij: np.ndarray, chunk_bc: int, bn: int, q_offset: int, block_num: int,
             num_heads: int, batch_start: int) -> None:
    del block_num
    bs = sij.shape[1]
    for i in range(chunk_bc):
        b, rows = batch_start + i, _chunk_rows(sij.shape[0], chunk_bc, i)
        q0 = b * num_heads + q_offset
        blk = int(block_table[b, bn])
        _PA.qk(query[q0 : q0 + rows.stop - rows.start], key_cache[blk * bs : blk * bs + bs],
               sij[rows])


def batch_softmax_prepare(sij: np.ndarray, context_lens: np.ndarray, pij: np.ndarray,
                          mij: np.ndarray, lij: np.ndarray, scale: float, chunk_bc: int,
                          bn: int, batch_start: int) -> None:
    """A block past the request's end: mij = -1e30 (not -inf, which would make the update
    NaN), lij = 0, pij = 0, as the runtime's kernel writes."""
    bs = sij.shape[1]
    for i in range(chunk_bc):
        rows = _chunk_rows(sij.shape[0], chunk_bc, i)
        valid = min(max(int(context_lens[batch_start + i]) - bn * bs, 0), bs)
        if valid == 0:
            pij[rows], mij[rows], lij[rows] = 0.0, F32(-1e30), 0.0
            continue
        _PA.softmax_prepare(sij[rows, :valid], pij[rows], mij[rows], lij[rows], scale)


def batch_pv(pij: np.ndarray, value_cache: np.ndarray, block_table: np.ndarray,
             oi_new: np.ndarray, chunk_bc: int, bn: int, block_num: int,
             batch_start: int) -> None:
    del block_num
    bs = pij.shape[1]
    for i in range(chunk_bc):
        rows = _chunk_rows(pij.shape[0], chunk_bc, i)
        blk = int(block_table[batch_start + i, bn])
        _PA.pv(pij[rows], value_cache[blk * bs : blk * bs + bs], oi_new[rows])


def batch_online_update(mij: np.ndarray, lij: np.ndarray, oi_new: np.ndarray, mi: np.ndarray,
                        li: np.ndarray, oi: np.ndarray, out: np.ndarray, is_first: int,
                        is_last: int, chunk_bc: int, q_offset: int, num_heads: int,
                        batch_start: int) -> None:
    for i in range(chunk_bc):
        rows = _chunk_rows(mij.shape[0], chunk_bc, i)
        o0 = (batch_start + i) * num_heads + q_offset
        _PA.online_update(mij[rows], lij[rows], oi_new[rows], mi[rows], li[rows], oi[rows],
                          out[o0 : o0 + rows.stop - rows.start], is_first, is_last)


# predicated_dispatch.pto
def clobber(x: np.ndarray) -> None:
    x.reshape(-1)[0] = F32(999.0)


def write_gate(gate: np.ndarray, value: int) -> None:
    gate.reshape(-1)[0] = value


# scalar_data.pto: the no-op kernel (it registers a dependency and changes nothing)
def noop(x: np.ndarray) -> None:
    del x


# spmd_sync_start_early_dispatch.pto: the producer's block writes its line (the runtime's
# kernel spins first to stay on its core; the model's timing comes from `cost`)
def spmd_write_slow(output: np.ndarray, base_cl: int, spin_iters: int, *, block_idx: int,
                    block_num: int) -> None:
    del spin_iters
    spmd_write_aiv(output, base_cl, block_idx=block_idx, block_num=block_num)


# spmd_sync_start_mix_spill.pto: the consumer's block, three lines (it does not spin)
def spmd_write_mix_slow(output: np.ndarray, base_cl: int, spin_iters: int, *, block_idx: int,
                        block_num: int) -> None:
    del spin_iters
    spmd_write_mix(output, base_cl, block_idx=block_idx, block_num=block_num)


# chip_swimlane_sync_start_early_local_owner.pto: a blocker block publishes 1.0 at its
# status line, holds its core for a while, and clears the status again
def spin_blocker(output: np.ndarray, status_base_cl: int, count: int, *, block_idx: int,
                 block_num: int) -> None:
    del block_num
    if 0 <= block_idx < count:
        output[(status_base_cl + block_idx) * 16] = 0.0
