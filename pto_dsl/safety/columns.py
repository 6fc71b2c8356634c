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

import numpy as np
import numpy.typing as npt

from pto_dsl.graph import Access, TaskGraph
from pto_dsl.ir import Tag

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_ACCESSES, _CORE, _ID = attrgetter("accesses"), attrgetter("core"), itemgetter(0)
_TAG = itemgetter(2)


@dataclass(frozen=True, eq=False)
class AccessColumns:
    """Every access of every task, in submission order (a task's in its order)."""

    first: Ints  # per task, the index of its first access; one more entry at the end
    task: Ints  # per access, its task's id
    buffer: Ints  # per access, its buffer's id
    writes: Bools  # per access, whether it writes (any tag but INPUT)

    def access(self, graph: TaskGraph, k: int) -> Access:
        t = int(self.task[k])
        return graph.task(t).accesses[k - int(self.first[t])]


@dataclass(frozen=True, eq=False)
class BufferGroups:
    """The data accesses (those of tasks other than alloc tasks) grouped by buffer, each
    buffer's in submission order; buffers in the order of their ids."""

    order: Ints  # access indices, by buffer and then position
    starts: Ints  # where each buffer's run begins in `order`; one more entry at the end
    buffers: Ints  # each run's buffer id (ascending)

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
    return graph.derived("edge_keys", lambda: _edge_keys(graph))


def _access_columns(graph: TaskGraph) -> AccessColumns:
    per_task = list(map(_ACCESSES, graph.tasks()))
    n = len(per_task)
    counts = np.fromiter(map(len, per_task), np.int64, n)
    first = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    m = int(first[-1])
    task = np.repeat(np.arange(n, dtype=np.int64), counts)
    buffer = np.fromiter(map(_ID, map(_ID, chain.from_iterable(per_task))), np.int64, m)
    writes = np.fromiter(map(is_not, map(_TAG, chain.from_iterable(per_task)),
                             repeat(Tag.INPUT)), np.bool_, m)
    return AccessColumns(first, task, buffer, writes)


def _buffer_groups(graph: TaskGraph) -> BufferGroups:
    cols = access_columns(graph)
    alloc = np.fromiter(map("alloc".__eq__, map(_CORE, graph.tasks())), np.bool_, len(graph))
    data = np.flatnonzero(~alloc[cols.task]) if alloc.any() else \
        np.arange(len(cols.task), dtype=np.int64)
    order = data[np.argsort(cols.buffer[data], kind="stable")]
    ids = cols.buffer[order]
    begins = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], begins, [len(order)])) if len(order) else \
        np.zeros(1, np.int64)
    return BufferGroups(order, starts.astype(np.int64), ids[starts[:-1]])


def _edge_keys(graph: TaskGraph) -> Ints:
    fanin = graph.fanin_lists()
    n = len(fanin)
    counts = np.fromiter(map(len, fanin), np.int64, n)
    producers = np.fromiter(chain.from_iterable(fanin), np.int64, int(counts.sum()))
    keys = producers + np.repeat(np.arange(n, dtype=np.int64) * n, counts)
    keys.sort()
    return keys


def has_edges(keys: Ints, n: int, producers: Ints, consumers: Ints) -> Bools:
    """Per pair, whether the edge producer -> consumer exists (`keys` from `edge_keys`)."""
    if not len(keys):
        return np.zeros(len(producers), np.bool_)
    wanted = consumers * n + producers
    at = np.searchsorted(keys, wanted)
    np.minimum(at, len(keys) - 1, out=at)
    found: Bools = keys[at] == wanted
    return found
