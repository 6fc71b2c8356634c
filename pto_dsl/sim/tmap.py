"""The runtime's TensorMap (runtime-model.md Step B / Step 4, runtime-model.md).

Entries are keyed by the buffer's exact base address; a lookup walks the entries of that
address, skips those whose producer has retired, and classifies the overlap of the rest
with the target's own test (regions.classifier). Retired entries are dropped lazily, every
64 retired tasks of a ring, as the runtime does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

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
                 classify: Classifier) -> None:
        self._classify = classify
        self._by_addr: dict[int, dict[int, Entry]] = {}
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
        self.lookups += 1
        classify = self._classify
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
        entry = Entry(region, producer, ring, local, version)
        self._by_addr.setdefault(addr, {})[id(entry)] = entry
        self._order[ring].append((addr, entry))

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
