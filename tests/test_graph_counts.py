"""`TaskGraph.edges_by_origin` (counted per shared origins tuple) and `edge_count` against
their plain definitions: every edge, once per origin."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pto_dsl.graph import Origin, Task, TaskGraph
from pto_dsl.pipeline import front_end, instantiate_case, read_source

ROOT = Path(__file__).resolve().parent.parent


def plain(graph: TaskGraph) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    for _, _, origins in graph.edges():
        counts.update(o.value for o in origins)
    return counts, len(list(graph.edges()))


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*/*.pto"))[:40],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_counts_of_every_example(path: Path) -> None:
    checked = front_end(read_source(path))
    graph = instantiate_case(checked, None)
    assert (graph.edges_by_origin(), graph.edge_count()) == plain(graph)


def test_origins_not_made_by_add_origin_are_counted_too() -> None:
    """A tuple made elsewhere (here by hand, as a new front end might) still counts."""
    graph = TaskGraph("p", "c")
    fresh = tuple([Origin.TENSORMAP, Origin.EXPLICIT])
    for tid in range(3):
        task = Task(tid, 0, "K", "aiv", 0, None, False, 0, (), (), (), None)  # type: ignore[arg-type]
        graph.add_task(task, {p: fresh for p in range(tid)})
    assert graph.edges_by_origin() == Counter({"tensormap": 3, "explicit": 3})
    assert (graph.edges_by_origin(), graph.edge_count()) == plain(graph)
