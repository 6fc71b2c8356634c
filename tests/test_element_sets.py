"""Exact element-set overlap of regions in different layouts (reshapes) for the hazard
checks, pinned to brute-force element sets."""

from __future__ import annotations

import math
import os

import numpy as np
from helpers import checked
from hypothesis import given, settings
from hypothesis import strategies as st

from pto_dsl.diagnostics import CompileError
from pto_dsl.element_sets import elements_meet, overlap
from pto_dsl.pipeline import check_graph, instantiate_case
from pto_dsl.regions import Overlap, Region

CI = os.environ.get("CI") == "true"


def _elements(r: Region) -> set[int]:
    flat = np.arange(math.prod(r.layout)).reshape(r.layout)
    return set(flat[tuple(slice(o, o + s) for o, s in zip(r.offsets, r.sizes))].reshape(-1)
               .tolist())


def test_column_and_flat_run_are_disjoint() -> None:
    col0 = Region((4, 4), (0, 0), (4, 1))
    assert overlap(col0, Region((16,), (1,), (3,))) is Overlap.NO_OVERLAP
    assert overlap(col0, Region((16,), (4,), (1,))) is Overlap.OTHER
    assert overlap(Region((2, 8), (1, 0), (1, 8)), Region((4, 4), (2, 0), (2, 4))) \
        is Overlap.OTHER  # the same elements 8..15 in two layouts


def _layouts(size: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Row-major shapes with `size` elements (1 to 4 dimensions)."""
    def split(n: int, parts: int) -> st.SearchStrategy[tuple[int, ...]]:
        if parts == 1:
            return st.just((n,))
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        return st.sampled_from(divisors).flatmap(
            lambda d: split(n // d, parts - 1).map(lambda rest: (d, *rest)))
    return st.integers(1, 4).flatmap(lambda parts: split(size, parts))


@st.composite
def _box(draw: st.DrawFn, layout: tuple[int, ...]) -> Region:
    offsets, sizes = [], []
    for dim in layout:
        lo = draw(st.integers(0, dim - 1))
        offsets.append(lo)
        sizes.append(draw(st.integers(1, dim - lo)))
    return Region(layout, tuple(offsets), tuple(sizes))


@st.composite
def _pair(draw: st.DrawFn) -> tuple[Region, Region]:
    size = draw(st.sampled_from([6, 12, 16, 24, 30, 36, 48, 60, 64, 72]))
    a = draw(_box(draw(_layouts(size))))
    b = draw(_box(draw(_layouts(size))))
    return a, b


@settings(max_examples=400, deadline=None, derandomize=CI)
@given(_pair())
def test_overlap_is_exact(pair: tuple[Region, Region]) -> None:
    a, b = pair
    ea, eb = _elements(a), _elements(b)
    assert elements_meet(a, b) == bool(ea & eb), (a, b)
    assert elements_meet(b, a) == bool(ea & eb), (a, b)
    if overlap(a, b) is Overlap.COVERED:
        assert eb <= ea, (a, b)


LAYOUTS = """
kernel COL aiv 0 (inout y: f32[4, 1])
kernel RUN aiv 1 (inout y: f32[3])
entry e(inout b: f32[4, 4]) {
    scope manual {
        COL(b[:, 0 : 1])
        RUN(reshape(b, [16])[START : START + 3])
    }
}
case c { }
"""


def _races(start: int) -> list[str]:
    c = checked(LAYOUTS.replace("START", str(start)))
    try:
        check_graph(c, instantiate_case(c, None))
    except CompileError as exc:
        return [d.code for d in exc.diagnostics]
    return []


def test_disjoint_writers_through_two_layouts_are_no_race() -> None:
    assert _races(1) == []  # column 0 is 0, 4, 8, 12; the run is 1..3
    assert _races(5) == []  # 5..7
    assert _races(2) == ["E201"]  # 2..4 holds element 4 of column 0
