"""Tensor regions and the runtime's overlap classification (reference §2.2).

A region is a box (offsets, sizes) in the raw row-major layout of one buffer. Regions
are NamedTuples rather than dataclasses: instantiation creates hundreds of thousands.
"""

from __future__ import annotations

import bisect
import enum
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Overlap(enum.Enum):
    NO_OVERLAP = 0
    COVERED = 1  # the reader's region contains the entry's
    OTHER = 2


class Region(NamedTuple):
    layout: tuple[int, ...]  # raw shape the offsets refer to
    offsets: tuple[int, ...]
    sizes: tuple[int, ...]

    def flat_range(self) -> tuple[int, int]:
        """[first, last + 1) in elements of the flat buffer; empty regions give (0, 0)."""
        if 0 in self.sizes:
            return (0, 0)
        first = last = 0
        stride = 1
        for dim in range(len(self.layout) - 1, -1, -1):
            first += self.offsets[dim] * stride
            last += (self.offsets[dim] + self.sizes[dim] - 1) * stride
            stride *= self.layout[dim]
        return (first, last + 1)

    @property
    def numel(self) -> int:
        total = 1
        for s in self.sizes:
            total *= s
        return total

    def __str__(self) -> str:
        parts = [f"{o}:{o + s}" for o, s in zip(self.offsets, self.sizes)]
        return "[" + ", ".join(parts) + "]"


def classify(reader: Region, entry: Region) -> Overlap:
    """How `reader` overlaps a TensorMap `entry` of the same buffer.

    The strided rule of the current runtime (reference §2.2, HEAD): flat ranges first;
    an exact per-dimension test when both share the layout; otherwise conservatively
    OTHER. This never reports NO_OVERLAP for regions that share an element.
    """
    r_lo, r_hi = reader.flat_range()
    e_lo, e_hi = entry.flat_range()
    if r_lo >= e_hi or e_lo >= r_hi or r_lo == r_hi or e_lo == e_hi:
        return Overlap.NO_OVERLAP
    return classify_boxes(reader, entry)


def classify_boxes(reader: Region, entry: Region) -> Overlap:
    """`classify` for two regions whose flat ranges are known to intersect."""
    if reader.layout != entry.layout:
        return Overlap.OTHER
    covered = True
    for ro, rs, eo, es in zip(reader.offsets, reader.sizes, entry.offsets, entry.sizes):
        if ro >= eo + es or eo >= ro + rs:
            return Overlap.NO_OVERLAP
        if ro > eo or ro + rs < eo + es:
            covered = False
    return Overlap.COVERED if covered else Overlap.OTHER


class RangeIndex(Generic[T]):
    """Items of one buffer keyed by flat element range [lo, hi), sorted by lo.

    `candidates` finds the items whose range intersects a query range: only those starting
    within the longest extent ever added before it need a look, so a lookup among disjoint
    tiles visits a handful of items however many there are. The TensorMap model and the
    hazard frontier keep their entries in one.
    """

    __slots__ = ("items", "max_extent", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: list[tuple[int, T]] = []  # (hi, item), in the order of `starts`
        self.max_extent = 0

    def candidates(self, lo: int, hi: int) -> list[tuple[int, T]]:
        """(position, item) of every item whose range intersects [lo, hi)."""
        i = bisect.bisect_left(self.starts, lo - self.max_extent + 1)
        j = bisect.bisect_left(self.starts, hi)
        items = self.items
        return [(k, items[k][1]) for k in range(i, j) if items[k][0] > lo]

    def remove(self, positions: list[int]) -> None:
        for k in sorted(positions, reverse=True):
            del self.items[k]
            del self.starts[k]

    def add(self, lo: int, hi: int, item: T) -> None:
        k = bisect.bisect_right(self.starts, lo)
        self.starts.insert(k, lo)
        self.items.insert(k, (hi, item))
        self.max_extent = max(self.max_extent, hi - lo)
