"""Comparing two task graphs of one program and case, task by task: what the C++ recorder
gives back for the C++ pto-compile writes must be the graph instantiation builds.

Compares tasks in order (kernel, core, func_id, SPMD block count and sync start, ring,
mode, scope path; a dummy task is the kernel 'dummy' on no core), their arguments in
order (buffer, region, tag, manual_dep), scalar values (as the kernel's parameter type holds
them), explicit deps, edges with their origins, scopes and orchestration reads. Buffers
are compared by id, dtype, shape and owner, not by name (C++ has no names for alloc items).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

from pto_dsl import ir
from pto_dsl.graph import Access, Task, TaskGraph
from pto_dsl.perf import paused_gc


def differences(program: ir.Program, expected: TaskGraph, actual: TaskGraph,
                limit: int = 5) -> list[str]:
    """The first `limit` differences, as sentences; empty if the graphs agree."""
    with paused_gc():  # a burst of short-lived keys over two large graphs
        return _differences(program, expected, actual, limit)


def _differences(program: ir.Program, expected: TaskGraph, actual: TaskGraph,
                 limit: int) -> list[str]:
    out: list[str] = []
    if len(expected) != len(actual):
        out.append(f"{len(expected)} tasks expected, {len(actual)} recorded")
    keys = _Keys(program)
    want, got = _Fanin(expected), _Fanin(actual)
    for a, b in zip(expected.tasks(), actual.tasks()):
        if keys.task(a) != keys.task(b):
            out.append(f"task {a.id}: expected {_plain(keys.task(a))}, "
                       f"recorded {_plain(keys.task(b))}")
        elif want.of(a.id) != got.of(b.id):
            out.append(f"task {a.id}: expected fanin {_plain(want.of(a.id))}, "
                       f"recorded {_plain(got.of(b.id))}")
        if len(out) >= limit:
            return out
    scopes = [(s.decl.mode, s.path(), s.depth) for s in expected.scopes]
    got_scopes = [(s.decl.mode, s.path(), s.depth) for s in actual.scopes]
    if scopes != got_scopes:
        out.append(f"scopes: expected {scopes[:4]}..., recorded {got_scopes[:4]}...")
    reads = [(r.access.buffer.id, r.access.region, r.after_tasks, r.write)
             for r in expected.host_reads]
    got_reads = [(r.access.buffer.id, r.access.region, r.after_tasks, r.write)
                 for r in actual.host_reads]
    if reads != got_reads:
        out.append(f"orchestration reads and writes: expected {len(reads)}, recorded "
                   f"{len(got_reads)} (or they differ)")
    return out[:limit]


class _Fanin:
    """The producers of each task in the order the runtime found them, with each edge's
    origins (enum members: equal across graphs, rendered only for a difference)."""

    def __init__(self, graph: TaskGraph) -> None:
        self.producers = graph.fanin_lists()
        self.origins = graph.fanin_origins()

    def of(self, task: int) -> list[tuple[int, tuple[Any, ...]]]:
        origins = self.origins[task]
        return [(p, tuple(origins[p])) for p in self.producers[task]]


class _Keys:
    """What is compared of a task: kernel, core, func_id, launch, ring, scope mode and path,
    arguments, scalars as the kernel's parameter types hold them, explicit deps, early
    resolve, predicate. Scalar types and scope paths are looked up once each."""

    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.types: dict[str, list[str]] = {}
        self.paths: dict[int, tuple[int, ...]] = {}

    def task(self, t: Task) -> tuple[Any, ...]:
        types = self.types.get(t.kernel)
        if types is None:
            kernel = self.program.kernels.get(t.kernel)
            types = self.types[t.kernel] = [p.type for p in kernel.scalar_params] \
                if kernel else []
        scalars = tuple(_scalar(v, types[i] if i < len(types) else "u64")
                        for i, v in enumerate(t.scalars))
        return (t.kernel, t.core, t.func_id, t.blocks, t.sync_start, t.ring, t.scope_mode,
                self.path(t), tuple(_access(a) for a in t.accesses), scalars,
                t.explicit_deps, t.early_resolve, t.predicate)

    def path(self, t: Task) -> tuple[int, ...]:
        if t.scope is None:
            return ()
        found = self.paths.get(id(t.scope))
        if found is None:
            found = self.paths[id(t.scope)] = t.scope.path()
        return found


def _access(a: Access) -> tuple[Any, ...]:
    b = a.buffer
    return (b.id, b.dtype, b.shape, b.owner, tuple(a.region), a.tag, a.manual_dep)


def _plain(value: Any) -> Any:
    """A key with its enum members as their values, for a message."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _scalar(value: Any, type_name: str) -> int | float:
    if type_name in ("f32", "f16", "bf16"):
        return float(np.float32(value))
    if type_name == "f64":
        return float(value)
    return int(value) & ((1 << 64) - 1)
