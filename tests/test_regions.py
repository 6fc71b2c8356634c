"""Overlap classification (reference §2.2) and the static TensorMap."""

from __future__ import annotations

from pto_dsl.dialects import OverlapRule
from pto_dsl.graph import Buffer
from pto_dsl.regions import (
    Overlap,
    Region,
    classify,
    classify_flat_then_box,
    classify_per_dim,
)
from pto_dsl.tensormap import TensorMap

B1, B2, B3 = (Buffer(i, f"b{i}", "f32", (8, 4), None) for i in (1, 2, 3))

L = (8, 4)


def box(r0: int, r1: int, c0: int = 0, c1: int = 4, layout: tuple[int, ...] = L) -> Region:
    return Region(layout, (r0, c0), (r1 - r0, c1 - c0))


def test_flat_range_of_a_box() -> None:
    assert box(2, 4).flat_range() == (8, 16)
    assert box(2, 4, 1, 2).flat_range() == (9, 14)
    assert Region(L, (0, 0), (0, 4)).flat_range() == (0, 0)


def test_same_layout_is_classified_exactly() -> None:
    assert classify(box(0, 8), box(2, 4)) is Overlap.COVERED
    assert classify(box(2, 4), box(0, 8)) is Overlap.OTHER
    assert classify(box(0, 4), box(4, 8)) is Overlap.NO_OVERLAP
    # flat ranges intersect, but the column boxes do not
    assert classify(box(0, 4, 0, 2), box(0, 4, 2, 4)) is Overlap.NO_OVERLAP


def test_different_layouts_are_conservative() -> None:
    flat = Region((32,), (0,), (8,))
    assert classify(flat, box(0, 2)) is Overlap.OTHER  # same elements, other layout
    assert classify(Region((32,), (8,), (8,)), box(0, 2)) is Overlap.NO_OVERLAP


def test_tensormap_finds_overlaps_and_removes_covered_entries() -> None:
    tm = TensorMap(OverlapRule.FLAT_THEN_BOX)
    tm.insert(B1, box(0, 2), producer=10)
    tm.insert(B1, box(2, 4), producer=11)
    tm.insert(B2, box(0, 8), producer=12)
    assert tm.lookup(B1, box(1, 3), remove_covered=False) == [10, 11]
    assert tm.lookup(B1, box(0, 2), remove_covered=True) == [10]
    assert tm.lookup(B1, box(0, 8), remove_covered=False) == [11]
    assert tm.lookup(B3, box(0, 8), remove_covered=False) == []
    assert (tm.lookups, tm.inserts) == (4, 3)


def test_tensormap_window_finds_long_entries_that_start_early() -> None:
    tm = TensorMap(OverlapRule.FLAT_THEN_BOX)
    tm.insert(B1, box(0, 8), producer=1)
    for r in range(8):
        tm.insert(B1, box(r, r + 1), producer=2 + r)
    assert tm.lookup(B1, box(7, 8), remove_covered=False) == [1, 9]


def test_per_dimension_rule_compares_in_the_entry_coordinates() -> None:
    rows = Region((8, 8), (2, 0), (2, 8))  # rows 2:4 of an [8, 8] buffer
    alias = Region((4, 16), (1, 0), (1, 16))  # the same 16 elements through a reshape
    assert classify(alias, rows) is Overlap.OTHER  # memory: they overlap
    assert classify_per_dim(alias, rows, 64) is Overlap.NO_OVERLAP  # v0: no edge
    whole = Region((4, 16), (0, 0), (4, 16))
    assert classify_per_dim(whole, Region((8, 8), (0, 0), (8, 8)), 64) is Overlap.OTHER
    assert classify_per_dim(box(0, 8), box(2, 4), 32) is Overlap.COVERED


def test_flat_then_box_rule_falls_back_for_unaligned_storage() -> None:
    left, right = Region((3, 5), (0, 0), (3, 2)), Region((3, 5), (0, 2), (3, 3))
    assert classify_flat_then_box(right, left, 15) is Overlap.NO_OVERLAP  # exact size
    assert classify_flat_then_box(right, left, 256) is Overlap.OTHER  # 60 B stored as 1024 B
    whole, row0 = Region((3, 5), (0, 0), (3, 5)), Region((3, 5), (0, 0), (1, 5))
    assert classify_flat_then_box(whole, row0, 15) is Overlap.COVERED
    assert classify_flat_then_box(whole, row0, 256) is Overlap.OTHER  # no removal
