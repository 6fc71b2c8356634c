"""Exact overlap of two regions of one buffer, for the hazard checks: do they share an
element, whatever layouts (reshapes) they are views in?

A region is a box in a row-major layout: the flat elements base + sum(i_d * stride_d) for
0 <= i_d < size_d. Two boxes in the same layout meet when they meet in every dimension;
in different layouts (column 0 of a [4, 4] view and flat elements 1..3 of a [16] view of
the same buffer) the test here splits the box with the coarser outer stride into its rows,
keeping only the rows whose flat range meets the other box, until both are contiguous runs.
It is exact, and cheap because rows outside the other's flat range are never visited. This
is what a *race* is about (two tasks touching one element); what the runtime's TensorMap
treats as an overlap for its edges is `regions.classify`, deliberately separate.
"""

from __future__ import annotations

from typing import NamedTuple

from pto_dsl.regions import Overlap, Region, classify_boxes


class _Box(NamedTuple):
    base: int  # the flat index of the first element
    dims: tuple[tuple[int, int], ...]  # (count, stride), outermost first, strides decreasing
    extent: int  # last flat index - base + 1

    @property
    def contiguous(self) -> bool:
        return not self.dims or (len(self.dims) == 1 and self.dims[0][1] == 1)


def overlap(a: Region, b: Region) -> Overlap:
    """NO_OVERLAP if the two regions of one buffer share no element; COVERED if `a`
    contains `b` (decided exactly only in a shared layout; across layouts never claimed);
    OTHER otherwise."""
    a_lo, a_hi = a.flat_range()
    b_lo, b_hi = b.flat_range()
    if a_lo >= b_hi or b_lo >= a_hi or a_lo == a_hi or b_lo == b_hi:
        return Overlap.NO_OVERLAP
    if a.layout == b.layout:
        return classify_boxes(a, b)  # the per-dimension test is exact here
    return Overlap.OTHER if _meet(_box(a), _box(b)) else Overlap.NO_OVERLAP


def elements_meet(a: Region, b: Region) -> bool:
    return overlap(a, b) is not Overlap.NO_OVERLAP


def _box(r: Region) -> _Box:
    """Canonical form: unit dimensions dropped, dimensions that continue each other merged."""
    strides = [1] * len(r.layout)
    for d in range(len(r.layout) - 2, -1, -1):
        strides[d] = strides[d + 1] * r.layout[d + 1]
    base = sum(o * s for o, s in zip(r.offsets, strides))
    dims: list[tuple[int, int]] = []
    for size, stride in zip(reversed(r.sizes), reversed(strides)):  # innermost first
        if size == 1:
            continue
        if dims and dims[-1][0] * dims[-1][1] == stride:  # contiguous with the inner one
            dims[-1] = (dims[-1][0] * size, dims[-1][1])
        else:
            dims.append((size, stride))
    dims.reverse()
    extent = sum((c - 1) * s for c, s in dims) + 1
    return _Box(base, tuple(dims), extent)


def _meet(a: _Box, b: _Box) -> bool:
    """Whether two boxes whose flat ranges intersect share an element."""
    if a.contiguous and b.contiguous:
        return True  # two runs whose ranges intersect
    # split the box with the coarser outer stride (a run has none) into its rows
    if b.contiguous or (not a.contiguous and a.dims[0][1] >= b.dims[0][1]):
        outer, other = a, b
    else:
        outer, other = b, a
    count, stride = outer.dims[0]
    rest = outer.dims[1:]
    rest_extent = sum((c - 1) * s for c, s in rest) + 1
    lo, hi = other.base, other.base + other.extent
    # rows i with outer.base + i*stride < hi and outer.base + i*stride + rest_extent > lo
    first = max(0, _ceil_div(lo - outer.base - rest_extent + 1, stride))
    last = min(count - 1, _ceil_div(hi - outer.base, stride) - 1)
    for i in range(first, last + 1):
        row = _Box(outer.base + i * stride, rest, rest_extent)
        if _meet(row, other):
            return True
    return False


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
