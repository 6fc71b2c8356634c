"""Screening for the race check: the buffers, and within a buffer used in disjoint regions
the chains of uses, that may hold an unordered hazard, found in bulk from the graph's
columns; only those go through the general hazard search.

Uses taken as one chain in submission order (a buffer's, whatever their regions, or one
region's) are all ordered when each use is ordered after the last write before it and each
read before the first write after it: ordering is transitive (a path of edges, or a wait
of the orchestration, then a path), so every earlier write, and every read before a later
write, is then ordered before the use too. Every hazard the general search can report
among those uses is such a pair, so a chain whose pairs are all ordered has none. The
pairs with an edge of their own (most) are cleared as a whole; the others ask
`Ordering.ordered`.
"""

from __future__ import annotations

import numpy as np

from pto_dsl.graph import TaskGraph
from pto_dsl.regions import Region
from pto_dsl.safety import columns, hazards
from pto_dsl.safety.columns import Bools, Ints
from pto_dsl.safety.hazards import Flat, Use
from pto_dsl.safety.ordering import Ordering

CHUNK = 1 << 18  # uses screened at once (about 20 MB of arrays along the way)


def chain_pairs(writes: Bools, task: Ints, starts: Ints) -> tuple[Ints, Ints, Ints]:
    """The pairs to order of chains laid end to end (chain k is `starts[k]` up to
    `starts[k + 1]`): (earlier task, later task, chain) of each use after the last write
    before it and of each read before the first write after it."""
    m = len(writes)
    pos = np.arange(m, dtype=np.int64)
    chain = np.repeat(np.arange(len(starts) - 1, dtype=np.int32), np.diff(starts))
    prev = np.empty(m, np.int64)  # the last write before each use (of any chain)
    prev[:1] = -1
    prev[1:] = np.maximum.accumulate(np.where(writes, pos, -1))[:-1]
    after = prev >= starts[chain]
    nxt = np.empty(m, np.int64)  # the first write after each use (of any chain)
    nxt[-1:] = m
    nxt[:-1] = np.minimum.accumulate(np.where(writes, pos, m)[::-1])[::-1][1:]
    del pos
    before = ~writes & (nxt < starts[chain + 1])
    earlier = np.concatenate((task[prev[after]], task[before]))
    later = np.concatenate((task[after], task[nxt[before]]))
    return earlier, later, np.concatenate((chain[after], chain[before]))


class Screen:
    """The screen of one graph under one `Ordering` (with the orchestration's waits)."""

    def __init__(self, graph: TaskGraph, order: Ordering) -> None:
        self.graph, self.order = graph, order
        self.keys = columns.edge_keys(graph)
        self.done_by = None if order.done_by is None else np.array(order.done_by, np.int64)

    def unordered_chains(self, writes: Bools, task: Ints, starts: Ints) -> set[int]:
        """The chains (as `chain_pairs` numbers them) with a pair not ordered."""
        earlier, later, chain = chain_pairs(writes, task, starts)
        clear = earlier == later
        clear |= columns.has_edges(self.keys, len(self.graph), earlier, later)
        if self.done_by is not None:
            clear |= self.done_by[earlier] <= later
        left = np.flatnonzero(~clear)
        ordered = self.order.ordered
        return {c for e, t, c in zip(earlier[left].tolist(), later[left].tolist(),
                                     chain[left].tolist()) if not ordered(e, t)}

    def racy_runs(self) -> list[Flat]:
        """The uses (as `hazards.by_buffer` lists them) of every buffer whose uses, as
        one chain and as one chain per region, have a pair not ordered, in the order of
        the buffers' first uses."""
        cols, groups = columns.access_columns(self.graph), columns.buffer_groups(self.graph)
        racy: set[int] = set()
        starts, runs = groups.starts, len(groups.buffers)
        g = 0
        while g < runs:  # in chunks of whole runs, to bound the arrays made along the way
            h = max(g + 1, int(np.searchsorted(starts, starts[g] + CHUNK, "right")) - 1)
            uses = groups.order[starts[g]:starts[h]]
            racy.update(g + r for r in self.unordered_chains(
                cols.writes[uses], cols.task[uses], starts[g:h + 1] - starts[g]))
            g = h
        return [columns.uses_of(self.graph, groups.run(run))
                for run in sorted(racy, key=lambda r: int(groups.order[groups.starts[r]]))
                if not self._ordered_regions(groups.run(run))]

    def _ordered_regions(self, run: Ints) -> bool:
        """Whether a buffer's uses (access indices, in order) are, per region, chains all
        ordered, with the regions pairwise disjoint: every hazard is then between uses
        of one region, so within a chain."""
        graph, cols = self.graph, columns.access_columns(self.graph)
        tasks = cols.task[run]
        slots = (run - cols.first[tasks]).tolist()
        chain_of: dict[Region, int] = {}
        chain = np.fromiter((chain_of.setdefault(graph.task(t).accesses[j].region,
                                                 len(chain_of))
                             for t, j in zip(tasks.tolist(), slots)), np.int64, len(run))
        if not hazards.disjoint(chain_of):
            return False
        by_chain = np.argsort(chain, kind="stable")
        starts = np.zeros(len(chain_of) + 1, np.int64)
        np.cumsum(np.bincount(chain, minlength=len(chain_of)), out=starts[1:])
        return not self.unordered_chains(cols.writes[run][by_chain], tasks[by_chain], starts)

    def racy_chains(self, chains: list[list[Use]]) -> list[list[Use]]:
        """The chains of uses (each of one region, in order) with a pair not ordered, in
        their order."""
        sizes = np.fromiter(map(len, chains), np.int64, len(chains))
        starts = np.zeros(len(chains) + 1, np.int64)
        np.cumsum(sizes, out=starts[1:])
        m = int(starts[-1])
        writes = np.fromiter((u.writes for c in chains for u in c), np.bool_, m)
        task = np.fromiter((u.task for c in chains for u in c), np.int64, m)
        racy = self.unordered_chains(writes, task, starts)
        return [c for k, c in enumerate(chains) if k in racy]
