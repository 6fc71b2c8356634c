"""A static model of the runtime's TensorMap (reference §2.1 Step B/Step 4, §2.2).

Used by instantiation to compute `tensormap` edges. Entries are keyed by buffer (the
runtime's exact base address) and searched by flat element range; producers never
retire here: the static graph is what the runtime builds when every producer is live.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from pto_dsl.regions import Overlap, Region, classify


class Entry(NamedTuple):
    start: int
    end: int
    region: Region
    producer: int


class _BufferEntries:
    __slots__ = ("entries", "max_extent", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.entries: list[Entry] = []
        self.max_extent = 0

    def window(self, lo: int, hi: int) -> tuple[int, int]:
        return (bisect.bisect_left(self.starts, lo - self.max_extent + 1),
                bisect.bisect_left(self.starts, hi))


class TensorMap:
    def __init__(self) -> None:
        self._buffers: dict[int, _BufferEntries] = {}
        self.lookups = 0
        self.inserts = 0

    def lookup(self, buffer: int, region: Region, remove_covered: bool) -> list[int]:
        """Producers of live entries overlapping `region`, in map order.

        With `remove_covered` (an INOUT argument), entries the region covers are removed.
        """
        self.lookups += 1
        entries = self._buffers.get(buffer)
        if entries is None:
            return []
        lo, hi = region.flat_range()
        if lo == hi:
            return []
        i, j = entries.window(lo, hi)
        found: list[int] = []
        doomed: list[int] = []
        for k in range(i, j):
            entry = entries.entries[k]
            if entry.end <= lo:
                continue
            overlap = classify(region, entry.region)
            if overlap is Overlap.NO_OVERLAP:
                continue
            found.append(entry.producer)
            if remove_covered and overlap is Overlap.COVERED:
                doomed.append(k)
        for k in reversed(doomed):
            del entries.entries[k]
            del entries.starts[k]
        return found

    def insert(self, buffer: int, region: Region, producer: int) -> None:
        self.inserts += 1
        lo, hi = region.flat_range()
        if lo == hi:
            return
        entries = self._buffers.get(buffer)
        if entries is None:
            entries = self._buffers[buffer] = _BufferEntries()
        k = bisect.bisect_right(entries.starts, lo)
        entries.starts.insert(k, lo)
        entries.entries.insert(k, Entry(lo, hi, region, producer))
        entries.max_extent = max(entries.max_extent, hi - lo)
