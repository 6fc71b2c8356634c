"""Comparing two task graphs of one program and case, task by task: what the C++ recorder
gives back for the C++ pto-compile writes must be the graph instantiation builds.

Compares tasks in order (kernel, core, func_id, SPMD block count and sync start, ring,
mode, scope path; a dummy task is the kernel 'dummy' on no core), their arguments in
order (buffer, region, tag, manual_dep), scalar values (as the kernel's parameter type holds
them), explicit deps, edges with their origins, scopes and orchestration reads. Buffers
are compared by id, dtype, shape and owner, not by name (C++ has no names for alloc items).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pto_dsl import ir
from pto_dsl.graph import Access, Task, TaskGraph


def differences(program: ir.Program, expected: TaskGraph, actual: TaskGraph,
                limit: int = 5) -> list[str]:
    """The first `limit` differences, as sentences; empty if the graphs agree."""
    out: list[str] = []
    if len(expected) != len(actual):
        out.append(f"{len(expected)} tasks expected, {len(actual)} recorded")
    for a, b in zip(expected.tasks(), actual.tasks()):
        if _task_key(program, a) != _task_key(program, b):
            out.append(f"task {a.id}: expected {_task_key(program, a)}, "
                       f"recorded {_task_key(program, b)}")
        elif _fanin(expected, a.id) != _fanin(actual, b.id):
            out.append(f"task {a.id}: expected fanin {_fanin(expected, a.id)}, "
                       f"recorded {_fanin(actual, b.id)}")
        if len(out) >= limit:
            return out
    scopes = [(s.decl.mode, s.path(), s.depth) for s in expected.scopes]
    got = [(s.decl.mode, s.path(), s.depth) for s in actual.scopes]
    if scopes != got:
        out.append(f"scopes: expected {scopes[:4]}..., recorded {got[:4]}...")
    reads = [(r.access.buffer.id, r.access.region, r.after_tasks, r.write)
             for r in expected.host_reads]
    got_reads = [(r.access.buffer.id, r.access.region, r.after_tasks, r.write)
                 for r in actual.host_reads]
    if reads != got_reads:
        out.append(f"orchestration reads and writes: expected {len(reads)}, recorded "
                   f"{len(got_reads)} (or they differ)")
    return out[:limit]


def _fanin(graph: TaskGraph, task: int) -> list[tuple[int, tuple[str, ...]]]:
    """The producers in the order the runtime found them, with each edge's origins."""
    return [(p, tuple(o.value for o in graph.origins(p, task)))
            for p in graph.fanin_lists()[task]]


def _task_key(program: ir.Program, t: Task) -> tuple[Any, ...]:
    kernel = program.kernels.get(t.kernel)
    types = [p.type for p in kernel.scalar_params] if kernel else []
    scalars = tuple(_scalar(v, types[i] if i < len(types) else "u64")
                    for i, v in enumerate(t.scalars))
    return (t.kernel, t.core, t.func_id, t.blocks, t.sync_start, t.ring, t.scope_mode,
            t.scope_path,
            tuple(_access(a) for a in t.accesses), scalars, t.explicit_deps, t.early_resolve,
            t.predicate)


def _access(a: Access) -> tuple[Any, ...]:
    b = a.buffer
    return (b.id, b.dtype, b.shape, b.owner, tuple(a.region), a.tag.value, a.manual_dep)


def _scalar(value: Any, type_name: str) -> int | float:
    if type_name in ("f32", "f16", "bf16"):
        return float(np.float32(value))
    if type_name == "f64":
        return float(value)
    return int(value) & ((1 << 64) - 1)
