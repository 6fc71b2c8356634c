"""What a run counts about its edges, in the units pto-check and pto-graph print.

Dependency pairs: distinct (producer, consumer) tasks, wired or not wired because the
producer had already retired; per origin, each origin of a pair once. deps.json records:
the rows the runtime's replay writes for the run's submits (one per distinct explicit dep,
one creator record per pair, one per TensorMap hit), counted whether or not the producer
retired, since the replay never retires producers. The runtime model reports every naming
of a producer through `name`; it knows nothing of the model itself.
"""

from __future__ import annotations

from collections import Counter


class EdgeCounts:
    __slots__ = ("_named", "_named_any", "origins", "records", "retired", "wired")

    def __init__(self) -> None:
        self.wired: Counter[str] = Counter()  # pairs by the origin that first named them
        self.retired: Counter[str] = Counter()  # the same, producer already retired
        self.origins: Counter[str] = Counter()  # each origin of a pair once
        self.records: Counter[str] = Counter()  # deps.json records by source
        # producers named so far in the current submit, and (producer, origin) pairs
        self._named_any: set[int] = set()
        self._named: set[tuple[int, str]] = set()

    def submit(self) -> None:
        """A new consumer: its submit names producers afresh."""
        if self._named_any:
            self._named_any.clear()
            self._named.clear()

    def wired_first(self, producers: list[int], origin: str) -> None:
        """`name(p, origin, wired=True)` for each of `producers`: distinct, and the first
        producers the current submit names."""
        self.wired_only(len(producers), origin)
        self._named_any.update(producers)
        self._named.update([(p, origin) for p in producers])

    def wired_only(self, n: int, origin: str) -> None:
        """`wired_first` of `n` producers when the submit names no other (nothing needs
        the names afterwards)."""
        self.wired[origin] += n
        self.origins[origin] += n
        self.records[origin] += n

    def name(self, producer_id: int, origin: str, wired: bool) -> None:
        """The current submit names a producer (`wired`: the runtime links it)."""
        first = producer_id not in self._named_any
        if first:
            self._named_any.add(producer_id)
            (self.wired if wired else self.retired)[origin] += 1
        key = (producer_id, origin)
        if key not in self._named:
            self._named.add(key)
            self.origins[origin] += 1
        if first or origin == "tensormap":  # the replay writes every TensorMap hit
            self.records[origin] += 1

    @property
    def pairs(self) -> int:
        return sum(self.wired.values()) + sum(self.retired.values())
