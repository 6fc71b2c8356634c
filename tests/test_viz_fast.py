"""The summary view's fast path against its general one: each loop variable's range over
a site's tasks, by columns when every task names the same variables in the same order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pto_dsl.viz import view

NAMES = st.sampled_from(["b", "bn", "i", "qt"])


def _tasks(instances: list[tuple[tuple[str, int], ...]]) -> list[Any]:
    return [SimpleNamespace(instance=i) for i in instances]


@st.composite
def site_instances(draw: st.DrawFn) -> list[tuple[tuple[str, int], ...]]:
    """A site's instances: one loop nest (the usual case), or a mix of nests and names."""
    nest = draw(st.lists(NAMES, max_size=3))
    values = st.integers(-3, 300)
    if draw(st.booleans()):
        return draw(st.lists(st.tuples(*[st.tuples(st.just(k), values) for k in nest]),
                             min_size=1, max_size=30))
    return draw(st.lists(st.lists(st.tuples(NAMES, values), max_size=3).map(tuple),
                         min_size=1, max_size=30))


@given(site_instances())
def test_ranges_by_columns_are_the_general_ranges(
        instances: list[tuple[tuple[str, int], ...]]) -> None:
    tasks = _tasks(instances)
    assert view._ranges(tasks) == view._ranges_general(tasks)


def test_the_columns_take_only_one_nest_of_distinct_names() -> None:
    assert view._columns([(("b", 1), ("i", 2)), (("b", 0), ("i", 5))]) == [
        ("b", [1, 0]), ("i", [2, 5])]
    assert view._columns([(("b", 1),), (("b", 0), ("i", 5))]) is None  # lengths differ
    assert view._columns([(("b", 1),), (("i", 0),)]) is None  # names differ
    assert view._columns([(("i", 1), ("i", 2))]) is None  # a name twice
    assert view._ranges(_tasks([(("i", 1), ("i", 2))])) == "i 1..2"
