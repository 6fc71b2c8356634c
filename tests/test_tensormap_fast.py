"""Property: the TensorMap's fast lookup under the current target's overlap test
(`tensormap._flat_hits`, one layout test per layout, and `_flat_producers`, its producers
alone) finds, classifies and removes exactly what the general lookup does with
`classify_flat_then_box` on every candidate.

Random runs of inserts and lookups (INPUT, and INOUT, which removes covered entries) on
one buffer of 24 elements seen through several layouts (reshapes), as an entry tensor
(exact storage) or a runtime-allocated output (storage rounded up to 1024 bytes, so no
layout's rows divide it and every overlap is OTHER).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pto_dsl.dialects import OverlapRule
from pto_dsl.graph import Buffer
from pto_dsl.regions import Region
from pto_dsl.tensormap import TensorMap

LAYOUTS = ((4, 6), (6, 4), (24,), (2, 12), (2, 3, 4))


@st.composite
def regions(draw: st.DrawFn) -> Region:
    layout = draw(st.sampled_from(LAYOUTS))
    offsets, sizes = [], []
    for d in layout:
        lo = draw(st.integers(0, d - 1))
        offsets.append(lo)
        sizes.append(draw(st.integers(1, d - lo)))
    return Region(layout, tuple(offsets), tuple(sizes))


steps = st.lists(st.tuples(st.sampled_from(["insert", "input", "inout"]), regions()),
                 min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(steps, st.booleans(), st.booleans())
def test_the_fast_lookup_is_the_general_one(run: list[tuple[str, Region]],
                                            owned: bool, producers_only: bool) -> None:
    """`hits` (with statuses, for deps.json) and `lookup` (producers only, with the flat
    range given or not, for instantiation) against the general path."""
    buffer = Buffer(0, "b", "f32", (24,), 0 if owned else None)
    fast = TensorMap(OverlapRule.FLAT_THEN_BOX)
    general = TensorMap(OverlapRule.FLAT_THEN_BOX, general=True)
    for producer, (step, region) in enumerate(run):
        if step == "insert":
            fast.insert(buffer, region, producer, region.flat_range() if owned else None)
            general.insert(buffer, region, producer)
        elif producers_only:
            remove = step == "inout"
            flat = region.flat_range() if producer % 2 else None
            assert fast.lookup(buffer, region, remove, flat) == [
                entry.producer for entry, _ in general.hits(buffer, region, remove)]
        else:
            remove = step == "inout"
            assert fast.hits(buffer, region, remove) == general.hits(buffer, region, remove)
    assert (fast.lookups, fast.inserts) == (general.lookups, general.inserts)


def test_the_fast_lookup_is_taken_only_for_the_current_test() -> None:
    assert TensorMap(OverlapRule.FLAT_THEN_BOX)._flat
    assert not TensorMap(OverlapRule.PER_DIM)._flat
    assert not TensorMap(OverlapRule.FLAT_THEN_BOX, general=True)._flat


POOL = st.lists(regions(), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(POOL.flatmap(lambda pool: st.lists(st.tuples(
    st.sampled_from(["insert", "input", "inout"]), st.sampled_from(pool)), min_size=1,
    max_size=20)), st.booleans())
def test_a_box_looked_up_where_it_was_written(run: list[tuple[str, Region]],
                                              owned: bool) -> None:
    """Few distinct boxes, so a lookup often meets the very box the buffer's one entry
    holds (the accumulator's fast path of `TensorMap.lookup`)."""
    buffer = Buffer(0, "b", "f32", (24,), 0 if owned else None)
    fast = TensorMap(OverlapRule.FLAT_THEN_BOX)
    general = TensorMap(OverlapRule.FLAT_THEN_BOX, general=True)
    for producer, (step, region) in enumerate(run):
        if step == "insert":
            fast.insert(buffer, region, producer)
            general.insert(buffer, region, producer)
        else:
            remove = step == "inout"
            assert fast.lookup(buffer, region, remove) == [
                entry.producer for entry, _ in general.hits(buffer, region, remove)]
