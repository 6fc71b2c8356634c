"""The task graph as flat NumPy columns for the graph checks: every access's task, buffer
and write flag, the data accesses grouped by buffer, and every edge as one sorted key.

Made once per graph (`TaskGraph.derived`) and shared by the checks, which use them to
clear the common case in bulk and hand only the rest to their general paths. The columns
keep no Python object per access: an access is found again through its task.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from pto_dsl.graph import Origins, TaskGraph
from pto_dsl.ir import Tag

Ints = npt.NDArray[np.integer[Any]]  # int32 per access (a million tasks: 4.5 million)
Bools = npt.NDArray[np.bool_]

_ACCESSES, _CORE, _ID = attrgetter("accesses"), attrgetter("core"), itemgetter(0)
_TAG, _OWNER = itemgetter(2), itemgetter(4)
_SCOPE, _RING = attrgetter("scope"), attrgetter("ring")


@dataclass(frozen=True, eq=False)
class AccessColumns:
    """Every access of every task, in submission order (a task's in its order)."""

    first: Ints  # per task, the index of its first access; one more entry at the end
    task: Ints  # per access, its task's id (int32)
    buffer: Ints  # per access, its buffer's id (int32)
    writes: Bools  # per access, whether it writes (any tag but INPUT)


@dataclass(frozen=True, eq=False)
class BufferGroups:
    """The data accesses (those of tasks other than alloc tasks) grouped by buffer, each
    buffer's in submission order; buffers in the order of their ids."""

    order: Ints  # access indices, by buffer and then position (int32)
    starts: Ints  # where each buffer's run begins in `order`; one more entry at the end
    buffers: Ints  # each run's buffer id (ascending, int32)

    def run(self, g: int) -> Ints:
        return self.order[self.starts[g]:self.starts[g + 1]]

    def find(self, buffer_id: int) -> int | None:
        """The run of buffer `buffer_id`, or None if no data access uses it."""
        g = int(np.searchsorted(self.buffers, buffer_id))
        return g if g < len(self.buffers) and self.buffers[g] == buffer_id else None


def access_columns(graph: TaskGraph) -> AccessColumns:
    return graph.derived("access_columns", lambda: _access_columns(graph))


def buffer_groups(graph: TaskGraph) -> BufferGroups:
    return graph.derived("buffer_groups", lambda: _buffer_groups(graph))


def edge_keys(graph: TaskGraph) -> Ints:
    """Every edge producer -> consumer as `consumer * len(graph) + producer`, sorted."""
    return _edges(graph).keys


def owners(graph: TaskGraph) -> Ints:
    """Per access, the task that created its buffer (-1 for an entry tensor); made anew
    at each call (one pass needs it)."""
    # None (an entry tensor) becomes NaN, then -1; task ids are far below 2**53
    column = np.array(list(map(_OWNER, graph.buffers)), np.float64)
    by_buffer = np.where(np.isnan(column), -1, column).astype(np.int32)
    ids = np.fromiter(map(_ID, graph.buffers), np.int64, len(graph.buffers))
    if not np.array_equal(ids, np.arange(len(ids))):  # a graph not built by instantiation
        table = np.full(int(ids.max(initial=-1)) + 1, -1, np.int32)
        table[ids] = by_buffer
        by_buffer = table
    return by_buffer[access_columns(graph).buffer]


def retaining_edges(graph: TaskGraph, retaining: frozenset[str]) -> Bools:
    """Per edge of `edge_keys`, whether one of its origins is in `retaining`."""
    kind, kinds = graph.derived("edge_kinds", lambda: _edge_kinds(graph))
    keeps = np.array([any(o.value in retaining for o in origins) for origins in kinds],
                     np.bool_)
    flags: Bools = keeps[kind] if len(keeps) else np.zeros(0, np.bool_)
    return flags


def task_rings(graph: TaskGraph) -> Ints:
    """Per task, its ring."""
    return graph.derived("task_rings", lambda: np.fromiter(
        map(_RING, graph.tasks()), np.int8, len(graph)))


def task_scopes(graph: TaskGraph) -> Ints:
    """Per task, the id of its scope instance (-1 for the entry's own level)."""
    scopes: Ints = graph.derived("scope_spans", lambda: _scope_spans(graph))[0]
    return scopes


def open_at(graph: TaskGraph, producers: Ints, consumers: Ints) -> Bools:
    """Per pair, `retention.ScopeTest`: the producer's scope is the entry's own level or
    encloses the consumer's (scopes numbered in a depth-first walk of their tree)."""
    scope, first, end = graph.derived("scope_spans", lambda: _scope_spans(graph))
    inner, outer = scope[consumers], scope[producers]
    if not len(first):  # no scope: every task is at the entry's own level
        return np.ones(len(producers), np.bool_)
    at = first[inner]
    return (outer < 0) | ((inner >= 0) & (first[outer] <= at) & (at < end[outer]))


def _access_columns(graph: TaskGraph) -> AccessColumns:
    per_task = list(map(_ACCESSES, graph.tasks()))
    n = len(per_task)
    counts = np.fromiter(map(len, per_task), np.int64, n)
    first = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    m = int(first[-1])
    task = np.repeat(np.arange(n, dtype=np.int32), counts)
    buffer = np.fromiter(map(_ID, map(_ID, chain.from_iterable(per_task))), np.int32, m)
    writes = np.fromiter(map(is_not, map(_TAG, chain.from_iterable(per_task)),
                             repeat(Tag.INPUT)), np.bool_, m)
    return AccessColumns(first, task, buffer, writes)


def _buffer_groups(graph: TaskGraph) -> BufferGroups:
    cols = access_columns(graph)
    alloc = np.fromiter(map("alloc".__eq__, map(_CORE, graph.tasks())), np.bool_, len(graph))
    if alloc.any():
        data = np.flatnonzero(~alloc[cols.task]).astype(np.int32)
        order = data[np.argsort(cols.buffer[data], kind="stable")]
        del data
    else:
        order = np.argsort(cols.buffer, kind="stable").astype(np.int32)
    ids = cols.buffer[order]
    begins = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], begins, [len(order)])) if len(order) else \
        np.zeros(1, np.int64)
    return BufferGroups(order, starts.astype(np.int64), ids[starts[:-1]])


@dataclass(frozen=True, eq=False)
class _Edges:
    keys: Ints  # sorted, as `edge_keys`
    sort: Ints  # the edges in fanin order (by consumer, each fanin in its order) to keys


def _edges(graph: TaskGraph) -> _Edges:
    return graph.derived("edges", lambda: _edge_columns(graph))


def _edge_columns(graph: TaskGraph) -> _Edges:
    fanin = graph.fanin_lists()
    n = len(fanin)
    counts = np.fromiter(map(len, fanin), np.int64, n)
    keys = np.fromiter(chain.from_iterable(fanin), np.int64, int(counts.sum()))
    keys += np.repeat(np.arange(n, dtype=np.int64) * n, counts)
    sort = np.argsort(keys, kind="stable")  # within a consumer only: nearly sorted
    return _Edges(keys[sort], sort.astype(np.int32))


def _edge_kinds(graph: TaskGraph) -> tuple[Ints, list[Origins]]:
    """Per edge of `edge_keys`, its origins as an index in a list of the distinct ones."""
    origins = list(chain.from_iterable(map(dict.values, graph.fanin_origins())))
    by_id = dict(zip(map(id, origins), origins))  # the tuples are shared: a few distinct
    codes = {k: code for code, k in enumerate(by_id)}
    kind = np.fromiter(map(codes.__getitem__, map(id, origins)), np.int16, len(origins))
    return kind[_edges(graph).sort], list(by_id.values())


def has_edges(keys: Ints, n: int, producers: Ints, consumers: Ints) -> Bools:
    """Per pair, whether the edge producer -> consumer exists (`keys` from `edge_keys`)."""
    found: Bools = edge_index(keys, n, producers, consumers) >= 0
    return found


def edge_index(keys: Ints, n: int, producers: Ints, consumers: Ints) -> Ints:
    """Per pair, the index in `keys` of the edge producer -> consumer, or -1 if none."""
    if not len(keys):
        return np.full(len(producers), -1, np.int64)
    wanted = consumers.astype(np.int64) * n + producers
    at = np.searchsorted(keys, wanted)
    np.minimum(at, len(keys) - 1, out=at)
    at[keys[at] != wanted] = -1
    return at


def _scope_spans(graph: TaskGraph) -> tuple[Ints, Ints, Ints]:
    """Per task its scope (-1 for none); per scope where its subtree starts and ends in a
    depth-first numbering (a scope is made after its parent, so its id is larger)."""
    scopes = graph.scopes
    count = len(scopes)
    parent = [-1 if s.parent is None else s.parent.id for s in scopes]
    assert all(s.id == k and parent[k] < k for k, s in enumerate(scopes))
    size = [1] * count
    for s in range(count - 1, -1, -1):
        if parent[s] >= 0:
            size[parent[s]] += size[s]
    first = [0] * count
    free = [0] * count  # the next number for a child of each scope
    top = 0
    for s in range(count):
        p = parent[s]
        if p < 0:
            first[s], top = top, top + size[s]
        else:
            first[s] = free[p]
            free[p] += size[s]
        free[s] = first[s] + 1
    ids = {id(s): s.id for s in scopes}
    ids[id(None)] = -1
    task_scope = np.fromiter(map(ids.__getitem__, map(id, map(_SCOPE, graph.tasks()))),
                             np.int32, len(graph))
    begin = np.array(first, np.int64)
    return task_scope, begin, begin + np.array(size, np.int64)


def uses_of(graph: TaskGraph, accesses: Ints) -> list[Any]:
    """The accesses at these indices as `hazards.by_buffer` lists a buffer's uses:
    task id, Access, task id, Access, ..."""
    cols = access_columns(graph)
    first = cols.first
    flat: list[Any] = []
    for k, t in zip(accesses.tolist(), cols.task[accesses].tolist()):
        flat.append(t)
        flat.append(graph.task(t).accesses[k - int(first[t])])
    return flat
