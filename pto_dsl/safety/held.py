"""The oldest task of each ring held until a task finishes (docs/runtime-model.md,
"Retention"), for the retention and redundancy checks: per task and ring, or one ring's
column alone, each made once per graph from the edge columns."""

from __future__ import annotations

from array import array

import numpy as np

from pto_dsl.graph import TaskGraph
from pto_dsl.safety import columns
from pto_dsl.safety.columns import Ints

RINGS = 4
NONE_HELD = 1 << 62


def oldest_held(graph: TaskGraph, retaining: frozenset[str],
                need_open: bool = True) -> list[list[int]]:
    """Per task R and ring, the oldest task of that ring held until R finishes: by a
    retaining edge into R or into a task R reaches, from a producer whose scope is open
    when that consumer is submitted (unless not `need_open`; NONE_HELD if none).

    Computed once per graph and question (the retention and redundancy checks share it);
    `tests/test_checks_fast.py` pins it to the plain definition. Rows are read-only."""
    return graph.derived(("oldest_held", retaining, need_open),
                         lambda: _oldest_held(graph, retaining, need_open))


def held_in_ring(graph: TaskGraph, retaining: frozenset[str], ring: int,
                 need_open: bool = True) -> Ints:
    """`oldest_held`'s column `ring` alone: per task, the oldest task of that ring held
    until it finishes (tests/test_checks_screen.py pins it to `oldest_held`)."""
    return graph.derived(("held_in_ring", retaining, ring, need_open),
                         lambda: _held_in_ring(graph, retaining, ring, need_open))


def successors(graph: TaskGraph) -> tuple[array[int], array[int]]:
    """Every task's successors, ascending, as (where each task's begin, one array): task
    t's are `succs[first[t]:first[t + 1]]`. Made once per graph; plain arrays, which
    Python indexes about as fast as lists, at 8 and 4 bytes an entry."""
    def make() -> tuple[array[int], array[int]]:
        n = len(graph)
        keys = columns.edge_keys(graph)
        out_keys = np.sort((keys % n) * n + keys // n)
        first = np.searchsorted(out_keys, np.arange(n + 1, dtype=np.int64) * n)
        return array("q", first.tobytes()), array("i", (out_keys % n).astype(np.int32).tobytes())
    return graph.derived("successors", make)


def _holders(graph: TaskGraph, retaining: frozenset[str],
             need_open: bool) -> tuple[Ints, Ints]:
    """The (producer, consumer) pairs of the edges that hold their producer: a retaining
    origin and (with `need_open`) the producer's scope open at the consumer; by consumer."""
    n = len(graph)
    keys = columns.edge_keys(graph)
    producer, consumer = keys % n, keys // n
    holds = columns.retaining_edges(graph, retaining)
    if need_open:
        holds = holds & columns.open_at(graph, producer, consumer)
    return producer[holds], consumer[holds]


def _oldest_held(graph: TaskGraph, retaining: frozenset[str],
                 need_open: bool) -> list[list[int]]:
    """Consumers from last to first: a task's row is the per-ring minimum of its
    successors' rows (every edge orders), lowered by its holders. A row nothing lowers is
    its only successor's row itself (rows are read-only), so no row is copied then."""
    n = len(graph)
    producer, consumer = _holders(graph, retaining, need_open)
    holders = producer.tolist()
    first_holder = np.searchsorted(consumer, np.arange(n + 1)).tolist()
    first_succ, succs = successors(graph)
    rings = columns.task_rings(graph).tolist()
    none = [NONE_HELD] * RINGS
    held: list[list[int]] = [none] * n
    for c in range(n - 1, -1, -1):
        lo, hi = first_succ[c], first_succ[c + 1]
        if lo == hi:
            mine, fresh = none, False
        elif hi - lo == 1:
            mine, fresh = held[succs[lo]], False
        else:
            mine, fresh = list(map(min, *[held[s] for s in succs[lo:hi]])), True
        lo, hi = first_holder[c], first_holder[c + 1]
        if lo != hi:
            for h in holders[lo:hi]:
                ring = rings[h]
                if h < mine[ring]:
                    if not fresh:
                        mine, fresh = mine.copy(), True
                    mine[ring] = h
        held[c] = mine
    return held


def _held_in_ring(graph: TaskGraph, retaining: frozenset[str], ring: int,
                  need_open: bool) -> Ints:
    """As `_oldest_held`, one ring: each task's own holders of that ring give its
    starting value in bulk, then one minimum over its successors, last to first."""
    n = len(graph)
    producer, consumer = _holders(graph, retaining, need_open)
    mine = columns.task_rings(graph)[producer] == ring
    own_column = np.full(n, NONE_HELD, np.int64)
    np.minimum.at(own_column, consumer[mine], producer[mine])
    own = own_column.tolist()
    first_succ, succs = successors(graph)
    held = own  # lowered in place, last to first: a task's successors are done
    for c in range(n - 1, -1, -1):
        lo, hi = first_succ[c], first_succ[c + 1]
        if lo == hi:
            continue
        v = held[succs[lo]] if hi - lo == 1 else min([held[s] for s in succs[lo:hi]])
        if v < held[c]:
            held[c] = v
    return np.array(held, np.int64)
