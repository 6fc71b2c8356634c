"""Tensor regions and the runtime's overlap classification per target (runtime-model.md,
"TensorMap overlap").

A region is a box (offsets, sizes) in the raw row-major layout of one buffer. Regions
are NamedTuples rather than dataclasses: instantiation creates hundreds of thousands.
`classify` is the true overlap (hazards); `classifier(rule)` is a target's TensorMap test.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from pto_dsl.dialects import OverlapRule

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

    def numel_of_layout(self) -> int:
        """Elements of the whole layout the offsets refer to."""
        total = 1
        for d in self.layout:
            total *= d
        return total

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
    """How `reader` overlaps `entry` of the same buffer in memory: flat ranges first;
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


# (reader, entry, elements of the buffer's storage) -> how the TensorMap classifies them
Classifier = Callable[[Region, Region, int], Overlap]


def classify_per_dim(reader: Region, entry: Region, storage: int) -> Overlap:
    """The v0 TensorMap test: per dimension of the entry, in the entry's coordinates.

    Both at offset zero: COVERED if the reader is at least as large in every dimension,
    else OTHER. Otherwise a half-open interval test per dimension. Layouts are not compared,
    so two views through different reshapes can be called NO_OVERLAP although they share
    memory. A reader with fewer dimensions than the entry is taken as offset 0, size 1 in
    the missing ones (the model's choice: the runtime reads whatever its descriptor holds).
    """
    if 0 in reader.sizes or 0 in entry.sizes:
        return Overlap.NO_OVERLAP
    r_off, r_size = reader.offsets, reader.sizes
    n_reader = len(r_size)
    if not any(r_off) and not any(entry.offsets):
        for i, es in enumerate(entry.sizes):
            if (r_size[i] if i < n_reader else 1) < es:
                return Overlap.OTHER
        return Overlap.COVERED
    contains = True
    for i, (eo, es) in enumerate(zip(entry.offsets, entry.sizes)):
        ro, rs = (r_off[i], r_size[i]) if i < n_reader else (0, 1)
        if ro >= eo + es or eo >= ro + rs:
            return Overlap.NO_OVERLAP
        if ro > eo or ro + rs < eo + es:
            contains = False
    return Overlap.COVERED if contains else Overlap.OTHER


def classify_flat_then_box(reader: Region, entry: Region, storage: int) -> Overlap:
    """The current TensorMap test: flat element ranges, then the exact box test when both
    share the layout and the buffer's storage is a whole number of outermost rows;
    otherwise OTHER. `storage` is the buffer's size in elements as the runtime records it
    (a runtime-allocated output's is rounded up to 1024 bytes)."""
    r_lo, r_hi = reader.flat_range()
    e_lo, e_hi = entry.flat_range()
    if r_lo >= e_hi or e_lo >= r_hi or r_lo == r_hi or e_lo == e_hi:
        return Overlap.NO_OVERLAP
    if reader.layout != entry.layout:
        return Overlap.OTHER
    row = 1
    for d in reader.layout[1:]:
        row *= d
    if storage % row:
        return Overlap.OTHER
    return classify_boxes(reader, entry)


CLASSIFIERS: dict[OverlapRule, Classifier] = {
    OverlapRule.PER_DIM: classify_per_dim,
    OverlapRule.FLAT_THEN_BOX: classify_flat_then_box,
}


def classifier(rule: OverlapRule) -> Classifier:
    return CLASSIFIERS[rule]


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
        if len(positions) == 1:
            del self.items[positions[0]]
            del self.starts[positions[0]]
            return
        for k in sorted(positions, reverse=True):
            del self.items[k]
            del self.starts[k]

    def add(self, lo: int, hi: int, item: T) -> None:
        k = bisect.bisect_right(self.starts, lo)
        self.starts.insert(k, lo)
        self.items.insert(k, (hi, item))
        self.max_extent = max(self.max_extent, hi - lo)
