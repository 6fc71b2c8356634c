"""A static model of the runtime's TensorMap (runtime-model.md, "Edges" and "TensorMap
overlap").

Used by instantiation to compute `tensormap` edges. Entries are keyed by buffer (the
runtime's exact base address), found by flat element range and classified with the
target's own overlap test; producers never retire here: the static graph is what the
runtime builds when every producer is live.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from pto_dsl.dialects import PACKED_OUTPUT_ALIGN, OverlapRule
from pto_dsl.graph import Buffer
from pto_dsl.regions import Overlap, RangeIndex, Region, classifier, classify_boxes
from pto_dsl.types import dtype_size

NO_OVERLAP, COVERED = Overlap.NO_OVERLAP, Overlap.COVERED


class Entry(NamedTuple):
    region: Region
    producer: int


def storage_elements(buffer: Buffer) -> int:
    """The buffer's size in elements as the runtime records it: an entry tensor's exact
    size; a runtime-allocated output's size rounded up to the packed-output alignment."""
    numel = 1
    for d in buffer.shape:
        numel *= d
    if buffer.owner is None:
        return numel
    size = dtype_size(buffer.dtype)
    return -(-numel * size // PACKED_OUTPUT_ALIGN) * PACKED_OUTPUT_ALIGN // size


class TensorMap:
    """Entries per buffer, grouped by the layout they were written in: views in one layout
    are found by flat range; v0's per-dimension test can also call views in another layout
    overlapping when their flat ranges are disjoint, so those are all examined (rare)."""

    def __init__(self, rule: OverlapRule, general: bool = False) -> None:
        self._buffers: dict[int, dict[tuple[int, ...], RangeIndex[Entry]]] = {}
        self._classify = classifier(rule)
        self._by_range_only = rule is not OverlapRule.PER_DIM
        # the current target's test on candidates found by range, taken per layout at
        # once (`_flat_hits`); `general` keeps the classifier for every candidate (the
        # definition the fast path is tested against)
        self._flat = rule is OverlapRule.FLAT_THEN_BOX and not general
        self._storage: dict[int, int] = {}
        self.lookups = 0
        self.inserts = 0

    def lookup(self, buffer: Buffer, region: Region, remove_covered: bool,
               flat: tuple[int, int] | None = None) -> list[int]:
        """Producers of live entries overlapping `region`, in map order.

        With `remove_covered` (an INOUT argument), entries the region covers are removed.
        `flat` is the region's flat range when the caller has it.
        """
        layouts = self._buffers.get(buffer.id)
        if layouts is None:  # never written through the map (most reads)
            self.lookups += 1
            return []
        if not self._flat:
            return [entry.producer for entry, _ in self.hits(buffer, region, remove_covered)]
        self.lookups += 1
        lo, hi = region.flat_range() if flat is None else flat
        if lo == hi:
            return []
        storage = self._storage[buffer.id]
        if len(layouts) == 1:  # a buffer rewritten in place (an accumulator): its last box
            entries = layouts.get(region.layout)
            if entries is not None and len(entries.items) == 1:
                entry = entries.items[0][1]
                if entry.region == region:  # the same non-empty box: COVERED, or OTHER
                    if remove_covered and not storage % _row(region.layout):
                        entries.remove([0])
                    return [entry.producer]
        return _flat_producers(layouts, region, lo, hi, storage, remove_covered)

    def hits(self, buffer: Buffer, region: Region,
             remove_covered: bool) -> list[tuple[Entry, Overlap]]:
        """`lookup` with each hit's entry and overlap status (deps.json records them)."""
        self.lookups += 1
        layouts = self._buffers.get(buffer.id)
        if layouts is None:
            return []
        lo, hi = region.flat_range()
        if lo == hi:
            return []
        storage, classify = self._storage[buffer.id], self._classify
        if self._flat:
            return _flat_hits(layouts, region, lo, hi, storage, remove_covered)
        found: list[tuple[Entry, Overlap]] = []
        for layout, entries in layouts.items():
            if self._by_range_only or layout == region.layout:
                candidates = entries.candidates(lo, hi)
            else:
                candidates = [(k, item) for k, (_, item) in enumerate(entries.items)]
            _collect(found, entries, candidates,
                     [classify(region, entry.region, storage) for _, entry in candidates],
                     remove_covered)
        return found

    def insert(self, buffer: Buffer, region: Region, producer: int,
               flat: tuple[int, int] | None = None) -> None:
        self.inserts += 1
        lo, hi = region.flat_range() if flat is None else flat
        if lo == hi:
            return
        layouts = self._buffers.get(buffer.id)
        if layouts is None:
            layouts = self._buffers[buffer.id] = {}
            self._storage[buffer.id] = storage_elements(buffer)
        entries = layouts.get(region.layout)
        if entries is None:
            entries = layouts[region.layout] = RangeIndex()
        entries.add(lo, hi, Entry(region, producer))


def _flat_hits(layouts: dict[tuple[int, ...], RangeIndex[Entry]], region: Region, lo: int,
               hi: int, storage: int, remove_covered: bool) -> list[tuple[Entry, Overlap]]:
    """`TensorMap.hits` under `classify_flat_then_box`, which for a candidate (its flat
    range meets the reader's, both non-empty) depends on the entry only through its layout
    (the same as the reader's, and the storage a whole number of its rows: the box test;
    else OTHER): so the layout test is made once per layout, not per candidate.
    `tests/test_tensormap_fast.py` checks it against the classifier."""
    found: list[tuple[Entry, Overlap]] = []
    for layout, entries in layouts.items():
        candidates = entries.candidates(lo, hi)
        if not candidates:
            continue
        if layout != region.layout or storage % _row(layout):
            found += [(entry, Overlap.OTHER) for _, entry in candidates]
            continue
        _collect(found, entries, candidates,
                 [classify_boxes(region, entry.region) for _, entry in candidates],
                 remove_covered)
    return found


def _flat_producers(layouts: dict[tuple[int, ...], RangeIndex[Entry]], region: Region,
                    lo: int, hi: int, storage: int, remove_covered: bool) -> list[int]:
    """The producers of `_flat_hits`, found without making its (entry, status) pairs: the
    lookups of instantiation (`tests/test_tensormap_fast.py` compares the two)."""
    found: list[int] = []
    for layout, entries in layouts.items():
        candidates = entries.candidates(lo, hi)
        if not candidates:
            continue
        if layout != region.layout or storage % _row(layout):
            found += [entry.producer for _, entry in candidates]
            continue
        doomed: list[int] = []
        for k, entry in candidates:
            overlap = classify_boxes(region, entry.region)
            if overlap is NO_OVERLAP:
                continue
            found.append(entry.producer)
            if remove_covered and overlap is COVERED:
                doomed.append(k)
        if doomed:
            entries.remove(doomed)
    return found


def _collect(found: list[tuple[Entry, Overlap]], entries: RangeIndex[Entry],
             candidates: list[tuple[int, Entry]], overlaps: list[Overlap],
             remove_covered: bool) -> None:
    """Append each candidate that overlaps, with its status (`overlaps`, in the same order),
    to `found`; drop the covered ones from `entries` when asked (the runtime's lookup
    removes what a write covers)."""
    doomed: list[int] = []
    for (k, entry), overlap in zip(candidates, overlaps):
        if overlap is Overlap.NO_OVERLAP:
            continue
        found.append((entry, overlap))
        if remove_covered and overlap is Overlap.COVERED:
            doomed.append(k)
    if doomed:
        entries.remove(doomed)


@functools.cache
def _row(layout: tuple[int, ...]) -> int:
    """Elements in one outermost row of a layout."""
    row = 1
    for d in layout[1:]:
        row *= d
    return row
