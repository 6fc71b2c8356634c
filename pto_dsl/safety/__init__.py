"""Checks on the instantiated task graph (one module per pass)."""

from __future__ import annotations

from collections.abc import Callable

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.graph import TaskGraph
from pto_dsl.perf import paused_gc
from pto_dsl.safety import races, retention

GraphCheck = Callable[[ir.Program, TaskGraph], list[Diagnostic]]

GRAPH_CHECKS: tuple[tuple[str, GraphCheck], ...] = (
    ("races", races.check),
    ("retention", retention.check),
)


def run_graph_checks(program: ir.Program, graph: TaskGraph) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    with paused_gc():
        for _, check in GRAPH_CHECKS:
            found.extend(check(program, graph))
    return found
