"""The runtime's TensorMap as the simulator runs it (runtime-model.md: Edges, TensorMap overlap).

Entries are keyed by the buffer's exact base address; a lookup walks the entries of that
address, skips those whose producer has retired, and classifies the overlap of the rest
with the target's own test (regions.classifier). Retired entries are dropped lazily, every
64 retired tasks of a ring, as the runtime does. Lookups are counted as the target's
profiling build counts them (`LookupCount`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from pto_dsl.dialects import LookupCount
from pto_dsl.regions import Classifier, Overlap, Region

CLEANUP_EVERY = 64  # retired tasks between cleanups (runtime-model.md)


class Entry:
    __slots__ = ("local", "producer", "region", "ring", "version")

    def __init__(self, region: Region, producer: int, ring: int, local: int,
                 version: int) -> None:
        self.region, self.producer, self.ring, self.local = region, producer, ring, local
        self.version = version


class RuntimeTensorMap:
    def __init__(self, rings: int, last_alive: Callable[[int], int],
                 classify: Classifier, count: LookupCount = LookupCount.EVERY_CALL) -> None:
        self._classify = classify
        self._by_addr: dict[int, dict[int, Entry]] = {}
        self.entries = self._by_addr  # empty: no entry at any address (read, never written)
        # Addresses whose hash bucket an insert has initialised in this run. The current
        # runtime counts a lookup only past its bucket's epoch check, which passes once any
        # insert reached the bucket, even if its entries were removed since. Real addresses
        # only exist on the device, so buckets are modelled per address: two buffers whose
        # addresses share one of the 4096 buckets would count where this model does not.
        self._bucket_used: set[int] | None = \
            set() if count is LookupCount.NONEMPTY_BUCKET else None
        self._order: list[deque[tuple[int, Entry]]] = [deque() for _ in range(rings)]
        self._last_alive = last_alive
        self._cleaned = [0] * rings
        self.lookups = 0
        self.inserts = 0

    def lookup(self, addr: int, region: Region, version: int, remove_covered: bool,
               storage: int, stale: list[int] | None = None) -> list[int]:
        """Producers (raw task ids) of live entries overlapping `region` of a buffer of
        `storage` elements; with `remove_covered` (an INOUT argument) the entries it covers
        are removed. Producers of overlapping entries that retired go to `stale` if given
        (for statistics)."""
        classify = self._classify
        used = self._bucket_used
        if used is None or addr in used:
            self.lookups += 1
        entries = self._by_addr.get(addr)
        if not entries:
            return []
        found: list[int] = []
        doomed: list[int] = []
        last_alive = self._last_alive
        for key, e in entries.items():
            if e.local < last_alive(e.ring):  # the producer retired: stale (runtime-model.md)
                if stale is not None:
                    overlap = classify(region, e.region, storage)
                    if overlap is not Overlap.NO_OVERLAP:
                        stale.append(e.producer)
                    # dropping a stale entry early changes no edge: lookups skip it anyway
                    if remove_covered and overlap is Overlap.COVERED:
                        doomed.append(key)
                continue
            # a newer version than the entry's is an overlap, never COVERED (runtime-model.md)
            overlap = Overlap.OTHER if version > e.version \
                else classify(region, e.region, storage)
            if overlap is Overlap.NO_OVERLAP:
                continue
            found.append(e.producer)
            if remove_covered and overlap is Overlap.COVERED:
                doomed.append(key)
        for key in doomed:
            del entries[key]
        return found

    def insert(self, addr: int, region: Region, version: int, producer: int, ring: int,
               local: int) -> None:
        self.inserts += 1
        if self._bucket_used is not None:
            self._bucket_used.add(addr)
        entry = Entry(region, producer, ring, local, version)
        self._by_addr.setdefault(addr, {})[id(entry)] = entry
        self._order[ring].append((addr, entry))

    def reused(self, addr: int) -> None:
        """A new buffer starts at `addr` (its heap space was reclaimed and handed out
        again): entries there whose producer has retired wrote the old buffer. Lookups skip
        them anyway; dropping them keeps them out of the retired-producer statistics and
        the critical path, which would otherwise see a dependency on the old buffer."""
        entries = self._by_addr.get(addr)
        if not entries:
            return
        last_alive = self._last_alive
        for key in [k for k, e in entries.items() if e.local < last_alive(e.ring)]:
            del entries[key]

    def retired(self, ring: int, count: int) -> None:
        """`count` more tasks of `ring` retired: drop stale entries every 64."""
        self._cleaned[ring] += count
        if self._cleaned[ring] < CLEANUP_EVERY:
            return
        self._cleaned[ring] = 0
        order, last_alive = self._order[ring], self._last_alive(ring)
        while order and order[0][1].local < last_alive:
            addr, entry = order.popleft()
            entries = self._by_addr.get(addr)
            if entries is not None:
                entries.pop(id(entry), None)
                if not entries:
                    del self._by_addr[addr]

    def size(self) -> int:
        return sum(len(e) for e in self._by_addr.values())
