"""Hazards: pairs of accesses to overlapping regions of one buffer, at least one a write.

Accesses are visited in submission order. Per buffer a frontier keeps the accesses a later
one can still conflict with; a write removes the entries its region covers, since anything
ordered after that write is ordered after them too. Each conflict is handed to a callback
together with the pair, so a pass decides what an unordered one means.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import pairwise
from typing import Any, NamedTuple

from pto_dsl.element_sets import overlap
from pto_dsl.graph import Access, TaskGraph
from pto_dsl.ir import Tag
from pto_dsl.regions import Overlap, RangeIndex, Region

INPUT, INOUT = Tag.INPUT, Tag.INOUT


class Kind(enum.Enum):
    RAW = "read after write"
    WAR = "write after read"
    WAW = "write after write"


class Use(NamedTuple):
    task: int
    access: Access
    writes: bool
    reads: bool


class Hazard(NamedTuple):
    kind: Kind
    earlier: Use
    later: Use


def _kind(earlier: Use, later: Use) -> Kind | None:
    if earlier.writes and later.reads:
        return Kind.RAW
    if earlier.writes and later.writes:
        return Kind.WAW
    if earlier.reads and later.writes:
        return Kind.WAR
    return None


def _use(task: int, acc: Access) -> Use:
    tag = acc.tag  # Access.writes and Access.reads, without two property calls
    return Use(task, acc, tag is not INPUT, tag is INPUT or tag is INOUT)


# Per buffer, its uses flat: task id, Access, task id, Access, ... (no pair tuple per access:
# on a million tasks that is a third of a gigabyte); `pairs` walks them.
Flat = list[Any]  # alternately int and Access


def by_buffer(graph: TaskGraph, only: Collection[int] | None = None) -> dict[int, Flat]:
    """Every data access of every task, per buffer, in submission order; with `only`, of
    those buffer ids alone. An alloc task creates its buffers without writing them, so it
    has none."""
    out: dict[int, Flat] = {}
    for task in graph.tasks():
        if task.core == "alloc":
            continue
        tid = task.id
        for acc in task.accesses:
            key = acc.buffer.id
            if only is not None and key not in only:
                continue
            bucket = out.get(key)
            if bucket is None:
                out[key] = [tid, acc]
            else:
                bucket.append(tid)
                bucket.append(acc)
    return out


def pairs(flat: Flat) -> Iterator[tuple[int, Access]]:
    """The (task id, access) pairs of one buffer's flat uses, in order."""
    items = iter(flat)
    return zip(items, items)


def find(graph: TaskGraph, on_hazard: Callable[[Hazard], None],
         unless: Callable[[int, int], bool] | None = None) -> None:
    """Call `on_hazard` for the conflicts of every buffer's accesses.

    Most buffers have one writer (a task's output and its readers): each other access is
    paired with that writer directly. Buffers written several times go through a frontier
    that keeps writes and reads apart, since a read conflicts only with writes. With
    `unless(earlier, later)`, single-writer pairs it accepts are passed over without being
    built (a pass that wants only unordered hazards saves most of its time so).
    """
    for flat in by_buffer(graph).values():
        buffer_hazards(flat, on_hazard, unless)


def buffer_hazards(flat: Flat, on_hazard: Callable[[Hazard], None],
                   unless: Callable[[int, int], bool] | None = None,
                   keep: Callable[[list[list[Use]]], list[list[Use]]] | None = None) -> None:
    """`find` on one buffer's flat uses. With `keep`, a buffer used in disjoint regions
    (one chain of uses per region) has only the chains `keep` returns searched: a pass
    that wants only unordered hazards passes over the chains it finds all ordered."""
    writers = [k for k in range(1, len(flat), 2) if flat[k].tag is not INPUT]  # writes
    if len(writers) == 1:
        w = writers[0]
        _single_writer(_use(flat[w - 1], flat[w]), flat, on_hazard, unless)
    elif writers:
        uses = [_use(t, a) for t, a in pairs(flat)]
        chains = _disjoint_chains(uses)
        if chains is None:
            _frontier(uses, on_hazard)
        else:
            for chain in chains if keep is None else keep(chains):
                _chain(chain, on_hazard)


def _disjoint_chains(uses: list[Use]) -> list[list[Use]] | None:
    """The uses grouped by region when the distinct regions are pairwise disjoint (their
    flat hulls do not meet) and no task uses the buffer twice; else None.

    An accumulator updated in place, or the rows of an output written tile by tile, is
    such a buffer: each group is then a plain chain, with no overlap to classify.
    """
    groups: dict[Region, list[Use]] = {}
    tasks = set()
    for use in uses:
        groups.setdefault(use.access.region, []).append(use)
        tasks.add(use.task)
    if len(tasks) != len(uses) or not disjoint(groups):
        return None
    return list(groups.values())


def disjoint(regions: Iterable[Region]) -> bool:
    """Whether distinct regions of one buffer are pairwise disjoint and none is empty,
    judged by their flat hulls."""
    hulls = sorted(region.flat_range() for region in regions)
    return not any(lo == hi for lo, hi in hulls) and not any(
        a[1] > b[0] for a, b in pairwise(hulls))


def _chain(uses: list[Use], on_hazard: Callable[[Hazard], None]) -> None:
    """Hazards of uses that all touch the same region: each write covers everything before
    it, so a use conflicts with the last write and, if it writes, the reads since."""
    last: Use | None = None
    reads: list[Use] = []
    for use in uses:
        if last is not None:
            kind = _kind(last, use)
            if kind is not None:
                on_hazard(Hazard(kind, last, use))
        if use.writes:
            for old in reads:
                on_hazard(Hazard(Kind.WAR, old, use))
            last, reads = use, []
        else:
            reads.append(use)


def _single_writer(w: Use, flat: Flat,
                   on_hazard: Callable[[Hazard], None],
                   unless: Callable[[int, int], bool] | None) -> None:
    region = w.access.region
    whole = region.sizes == w.access.buffer.shape and not any(region.offsets)
    w_lo, w_hi = (0, 0) if whole else region.flat_range()  # a whole writer needs no range
    for tid, acc in pairs(flat):
        if tid == w.task:
            continue
        if not whole:  # views are never empty, so a whole-buffer writer overlaps every use
            lo, hi = acc.region.flat_range()
            if lo >= w_hi or w_lo >= hi or overlap(acc.region, region) is Overlap.NO_OVERLAP:
                continue
        if tid > w.task:
            if unless is None or not unless(w.task, tid):
                on_hazard(Hazard(Kind.RAW, w, _use(tid, acc)))
        elif unless is None or not unless(tid, w.task):
            on_hazard(Hazard(Kind.WAR, _use(tid, acc), w))


def _frontier(uses: list[Use], on_hazard: Callable[[Hazard], None]) -> None:
    writes: RangeIndex[Use] = RangeIndex()
    reads: RangeIndex[Use] = RangeIndex()
    for use in uses:
        region = use.access.region
        lo, hi = region.flat_range()
        if lo == hi:
            continue
        for index in (writes, reads) if use.writes else (writes,):
            covered = []
            for k, old in index.candidates(lo, hi):
                if old.task == use.task:
                    continue
                how = overlap(region, old.access.region)  # exact across layouts too
                if how is Overlap.NO_OVERLAP:
                    continue
                kind = _kind(old, use)
                if kind is not None:
                    on_hazard(Hazard(kind, old, use))
                if use.writes and how is Overlap.COVERED:
                    covered.append(k)
            if covered:
                index.remove(covered)
        (writes if use.writes else reads).add(lo, hi, use)
