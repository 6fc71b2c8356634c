"""Shared helpers for tests: compile inline programs."""

from __future__ import annotations

from pto_dsl.graph import Origin, TaskGraph
from pto_dsl.pipeline import Checked, front_end, instantiate_case
from pto_dsl.source import SourceFile


def checked(text: str, name: str = "t.pto") -> Checked:
    return front_end(SourceFile(name, text))


def graph(text: str, case: str | None = None) -> TaskGraph:
    return instantiate_case(checked(text), case)


def edges(g: TaskGraph) -> dict[tuple[str, str], set[str]]:
    """Edges by task label (kernel#id), with their origins as strings."""
    out: dict[tuple[str, str], set[str]] = {}
    for u, v, origins in g.edges():
        key = (f"{g.task(u).kernel}#{u}", f"{g.task(v).kernel}#{v}")
        out[key] = {o.value for o in origins}
    return out


__all__ = ["Origin", "checked", "edges", "graph"]
