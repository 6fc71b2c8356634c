"""A static model of the runtime's TensorMap (reference §2.1 Step B/Step 4, §2.2).

Used by instantiation to compute `tensormap` edges. Entries are keyed by buffer (the
runtime's exact base address) and searched by flat element range; producers never
retire here: the static graph is what the runtime builds when every producer is live.
"""

from __future__ import annotations

from typing import NamedTuple

from pto_dsl.regions import Overlap, RangeIndex, Region, classify


class Entry(NamedTuple):
    region: Region
    producer: int


class TensorMap:
    def __init__(self) -> None:
        self._buffers: dict[int, RangeIndex[Entry]] = {}
        self.lookups = 0
        self.inserts = 0

    def lookup(self, buffer: int, region: Region, remove_covered: bool) -> list[int]:
        """Producers of live entries overlapping `region`, in map order.

        With `remove_covered` (an INOUT argument), entries the region covers are removed.
        """
        return [entry.producer for entry, _ in self.hits(buffer, region, remove_covered)]

    def hits(self, buffer: int, region: Region,
             remove_covered: bool) -> list[tuple[Entry, Overlap]]:
        """`lookup` with each hit's entry and overlap status (deps.json records them)."""
        self.lookups += 1
        entries = self._buffers.get(buffer)
        if entries is None:
            return []
        lo, hi = region.flat_range()
        if lo == hi:
            return []
        found: list[tuple[Entry, Overlap]] = []
        doomed: list[int] = []
        for k, entry in entries.candidates(lo, hi):
            overlap = classify(region, entry.region)
            if overlap is Overlap.NO_OVERLAP:
                continue
            found.append((entry, overlap))
            if remove_covered and overlap is Overlap.COVERED:
                doomed.append(k)
        if doomed:
            entries.remove(doomed)
        return found

    def insert(self, buffer: int, region: Region, producer: int) -> None:
        self.inserts += 1
        lo, hi = region.flat_range()
        if lo == hi:
            return
        entries = self._buffers.get(buffer)
        if entries is None:
            entries = self._buffers[buffer] = RangeIndex()
        entries.add(lo, hi, Entry(region, producer))
