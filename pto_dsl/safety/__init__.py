"""Checks on the instantiated task graph (one module per pass)."""

from __future__ import annotations

from collections.abc import Callable

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.dialects import DEFAULT_RUNTIME, RuntimeConfig
from pto_dsl.graph import TaskGraph
from pto_dsl.perf import paused_gc
from pto_dsl.safety import capacity, host_races, liveness, races, redundancy, retention, skipped

GraphCheck = Callable[[ir.Program, TaskGraph, RuntimeConfig], list[Diagnostic]]

GRAPH_CHECKS: tuple[tuple[str, GraphCheck], ...] = (
    ("capacity", capacity.check),
    ("races", races.check),
    ("host races", host_races.check),
    ("retention", retention.check),
    ("redundancy", redundancy.check),
    ("liveness", liveness.check),
    ("skipped", skipped.check),
)


def run_graph_checks(program: ir.Program, graph: TaskGraph,
                     runtime: RuntimeConfig = DEFAULT_RUNTIME) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    with paused_gc():
        for _, check in GRAPH_CHECKS:
            found.extend(check(program, graph, runtime))
    return found
