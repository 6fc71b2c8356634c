"""Goldens of the corpus programs for pto-run: each function is named after a program's
entry, takes the entry's tensors, scalars and shape symbols by name, and returns the
expected contents of the tensors the program writes, computed in plain NumPy from the
math the runtime's own test states (independently of the kernels)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

F32 = np.float32


def _f32(inputs: dict[str, object], name: str) -> np.ndarray:
    return np.asarray(inputs[name], dtype=F32)


def vector_example(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    s = _f32(inputs, "a") + _f32(inputs, "b")
    return {"f": (s + 1) * (s + 2) + s}


def args_dump(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return vector_example(inputs)


def _tiles(x: np.ndarray, n: int) -> np.ndarray:
    return x.reshape(-1, n, n)


def alternating_matmul_add(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    c = np.matmul(_tiles(_f32(inputs, "A"), 128), _tiles(_f32(inputs, "B"), 128))
    return {"C": c.reshape(-1), "Z": _f32(inputs, "X") + _f32(inputs, "Y")}


def benchmark_bgemm(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    tile, grid_k, groups, loop = (int(v) for v in np.asarray(inputs["config"]))
    a = _f32(inputs, "A").reshape(groups, grid_k, loop, tile, tile)
    b = _f32(inputs, "B").reshape(groups, grid_k, loop, tile, tile)
    c = np.matmul(a, b).sum(axis=1, dtype=F32)          # [groups, loop, tile, tile]
    return {"C": c.reshape(-1)}


def heap_empty_ring_rebase(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = {}
    for name in ("y1", "y2"):
        y = _f32(inputs, name).copy()
        y[0] = 42.0
        out[name] = y
    return out


def mixed_example(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    iters = int(inputs["LEN"]) // int(inputs["TILE"])  # type: ignore[call-overload]
    mm = np.matmul(_tiles(_f32(inputs, "A"), 128), _tiles(_f32(inputs, "B"), 128)).reshape(-1)
    add = _f32(inputs, "D") + _f32(inputs, "E")
    mul = _f32(inputs, "G") * _f32(inputs, "H")
    out = {name: np.tile(mm, iters) for name in ("C", "J", "N")}
    out |= {name: np.tile(add, iters) for name in ("F", "K", "L", "O")}
    out |= {name: np.tile(mul, iters) for name in ("I", "M")}
    return out


def spmd_basic(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    for base, values in ((0, (0, 1)), (16, (0, 1, 0)), (32, (0, 1, 1))):
        out[base : base + len(values)] = values
    return {"output": out}


def spmd_multiblock_aiv(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    for blocks, base in ((4, 0), (16, 4), (24, 20), (48, 44), (96, 92)):
        out[(base + np.arange(blocks)) * 16] = np.arange(blocks)
    return {"output": out}


def spmd_multiblock_mix(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    for blocks, base in ((2, 0), (8, 6), (12, 30), (24, 66), (48, 138)):
        for slot in range(3):
            out[(base + 3 * np.arange(blocks) + slot) * 16] = np.arange(blocks)
    return {"output": out}


def spmd_batch_dispatch_oob(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    for base in (0, 144):
        for slot in range(3):
            out[(base + 3 * np.arange(48) + slot) * 16] = np.arange(48)
    return {"output": out}


def spmd_starvation(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    tasks, line = [], 0
    for wave in range(3):
        for _ in range(6):
            tasks.append((4, line))
            line += 12
        if wave < 2:
            tasks.append((6, line))
            line += 18
    for blocks, base in tasks:
        for slot in range(3):
            out[(base + 3 * np.arange(blocks) + slot) * 16] = np.arange(blocks)
    return {"output": out}


CLUSTERS = 24  # the width pto-run simulates by default (available_cluster_count())


def _mix_lines(out: np.ndarray, blocks: int, base: int) -> None:
    for slot in range(3):
        out[(base + 3 * np.arange(blocks) + slot) * 16] = np.arange(blocks)


def _aiv_lines(out: np.ndarray, blocks: int, base: int) -> None:
    out[(base + np.arange(blocks)) * 16] = np.arange(blocks)


def _layout(inputs: dict[str, object], widths: list[int], slots: int,
            name: str = "output") -> dict[str, np.ndarray]:
    """Tasks of `widths` blocks on consecutive lines, and the layout the orchestration
    reports: (block count, first line) per task."""
    out = _f32(inputs, name).copy()
    layout, base = [], 0
    for blocks in widths:
        (_mix_lines if slots == 3 else _aiv_lines)(out, blocks, base)
        layout += [blocks, base]
        base += blocks * slots
    return {name: out, "layout": np.array(layout, dtype=np.int32)}


def available_aicore_counts(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "block_lines").copy()
    _mix_lines(out, CLUSTERS, 0)
    return {"block_lines": out, "shape": np.array([CLUSTERS, 2 * CLUSTERS], dtype=np.int32)}


def spmd_sync_start(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return _layout(inputs, [max(CLUSTERS // d, 1) for d in (12, 3, 12, 2)], 3)


def spmd_sync_start_aiv(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return _layout(inputs, [max(2 * CLUSTERS // d, 1) for d in (12, 3, 12, 2)], 1)


def spmd_sync_start_edge(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    widths = [1, CLUSTERS // 3, CLUSTERS // 3 + 1, CLUSTERS - 1, 1]
    return _layout(inputs, widths, 3)


def spmd_sync_start_stress(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = _f32(inputs, "output").copy()
    normal_mix, sync_mix, sync_aiv, normal_aiv = (CLUSTERS // d for d in (6, 2, 3, 6))
    line = 0
    for _ in range(6):
        for blocks, slots in ([(normal_mix, 3)] * 4 + [(sync_mix, 3)] * 2
                              + [(sync_aiv, 1)] * 2 + [(normal_aiv, 1)]):
            (_mix_lines if slots == 3 else _aiv_lines)(out, blocks, line)
            line += blocks * slots
    layout = np.array([normal_mix, sync_mix, sync_aiv, normal_aiv], dtype=np.int32)
    return {"output": out, "layout": layout}


def scalar_data(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    a, b = _f32(inputs, "a"), _f32(inputs, "b").copy()
    c = a + b
    check = [c[0], c[100], 77.0, 77.0, c[0] + 77.0, 42.0, 10.0 + a[0], 88.0, 55.0]
    b[0] = 0.0  # the orchestration restores it before the last task
    return {"result": a + b, "check": np.array(check, dtype=F32), "b": b}


def merge_pipeline_barrier(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return {"result": 2.0 * _f32(inputs, "x") + 3.0}


def chip_swimlane(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    a, b = (_f32(inputs, n).reshape(128, 128) for n in ("A", "B"))
    d, e = _f32(inputs, "D"), _f32(inputs, "E")
    s1, v1 = a @ b, d + e
    s2, v2 = s1 @ b, v1 + e
    return {"ws_aic": np.concatenate([s1.reshape(-1), s2.reshape(-1)]),
            "ws_aiv": np.concatenate([v1, v2]),
            "aic_out": (s2 @ b).reshape(-1), "aiv_out": v2 + e}


def _first_set(inputs: dict[str, object], *names: str) -> dict[str, np.ndarray]:
    """The named tensors with 42 in their first element (the write_const/copy_first
    scenes: whatever the task graph, the value that arrives is the producer's 42)."""
    out = {}
    for name in names:
        t = _f32(inputs, name).copy()
        t[0] = 42.0
        out[name] = t
    return out


def dep_gen(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return _first_set(inputs, "x", "y")


def dummy_task(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    scene = int(inputs["case_id"])  # type: ignore[call-overload]
    return _first_set(inputs, "x", "y", *(("w",) if scene == 3 else ()))


def fanin_lookup_perf(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    out = {"producer_out": _f32(inputs, "producer_out").copy(),
           "consumer_out": _f32(inputs, "consumer_out").copy()}
    if int(inputs["use_real_kernels"]):  # type: ignore[call-overload]
        for name, count in (("producer_out", "producer_count"),
                            ("consumer_out", "consumer_count")):
            out[name][: 16 * int(inputs[count]) : 16] = 42.0  # type: ignore[call-overload]
    return out


def prefetch_async_orchestration(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    return {"out": _f32(inputs, "src").copy()}


def _paged_attention_golden() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "paged_attention" / "golden.py"
    spec = importlib.util.spec_from_file_location("corpus_paged_attention_golden", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paged_attention_unroll_4dims(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """The paged-attention golden of examples/paged_attention on [B, H, D] query and
    output: the 4-D tensors have a unit second dimension."""
    flat = dict(inputs, query=_f32(inputs, "query")[:, 0], out=_f32(inputs, "out")[:, 0])
    out = _paged_attention_golden().paged_attention(flat)["out"]
    return {"out": out[:, None]}


def spmd_paged_attention(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """The paged-attention golden of examples/paged_attention: the SPMD task computes the
    same attention."""
    return _paged_attention_golden().paged_attention(inputs)


def batch_paged_attention(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """The paged-attention golden of examples/paged_attention: chunking the requests
    changes which task computes what, not the result."""
    return _paged_attention_golden().paged_attention(inputs)


def predicated_dispatch(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """The clobber runs only for case 2, whose gate is 1: x[0] and y[0] are 999, else 42."""
    gate_value = 1 if int(inputs["case_id"]) == 2 else 0  # type: ignore[call-overload]
    x, y = _f32(inputs, "x").copy(), _f32(inputs, "y").copy()
    gate = np.asarray(inputs["gate"], dtype=np.int32).copy()
    gate[0] = gate_value
    x[0] = y[0] = 999.0 if gate_value else 42.0
    return {"x": x, "y": y, "gate": gate}


def spmd_sync_start_early_dispatch(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """50 producer lines, then the consumer's three lines per block, over every cluster."""
    out = _f32(inputs, "output").copy()
    out[np.arange(50) * 16] = np.arange(50)
    for slot in range(3):
        out[(50 + 3 * np.arange(CLUSTERS) + slot) * 16] = np.arange(CLUSTERS)
    return {"output": out, "layout": np.array([CLUSTERS], dtype=np.int32)}


def spmd_sync_start_mix_spill(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """A line per AIV core, then three lines per cluster; the layout has both widths."""
    out, aivs = _f32(inputs, "output").copy(), 2 * CLUSTERS
    out[np.arange(aivs) * 16] = np.arange(aivs)
    for slot in range(3):
        out[(aivs + 3 * np.arange(CLUSTERS) + slot) * 16] = np.arange(CLUSTERS)
    return {"output": out, "layout": np.array([aivs, CLUSTERS], dtype=np.int32)}


def sync_start_early_local_owner(inputs: dict[str, object]) -> dict[str, np.ndarray]:
    """The producer's block 0 at line 0, the consumer's block b at line 1 + b."""
    out = _f32(inputs, "output").copy()
    blocks = int(inputs["consumer_blocks"])  # type: ignore[call-overload]
    out[0] = 0.0
    out[(1 + np.arange(blocks)) * 16] = np.arange(blocks)
    return {"output": out}
