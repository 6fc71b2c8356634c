"""What the pictures mark on a task graph: races, redundant deps and the critical path.

Input: the program and one instantiated graph; output: task pairs and paths, computed with
the passes of `safety/` (never re-deciding what they decide). Nothing here draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.costs import DEFAULT_COST_CYCLES, cost_function
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.graph import TaskGraph
from pto_dsl.perf import paused_gc
from pto_dsl.safety import races
from pto_dsl.safety.hazards import Hazard
from pto_dsl.safety.redundancy import dep_clauses

RACE_CODES = ("E201", "W201")  # safety/races.py


@dataclass(frozen=True)
class Race:
    """An unordered hazard between two tasks, as the race check classifies it."""

    kind: str  # "read after write", ...
    error: bool  # E201 (an error) or W201 (the runtime's own WAR blind spot)


@dataclass
class Findings:
    races: dict[tuple[int, int], Race] = field(default_factory=dict)
    redundant: set[tuple[int, int]] = field(default_factory=set)  # explicit edges, W302
    costs: list[float] = field(default_factory=list)  # per task
    critical: list[int] = field(default_factory=list)  # task ids, in order
    critical_cost: float = 0.0


def analyse(program: ir.Program, graph: TaskGraph, found: list[Diagnostic]) -> Findings:
    """The marks for a graph whose checks reported `found` (`safety.run_graph_checks`):
    their race and W302 findings are turned into task pairs, not decided again."""
    with paused_gc():
        costs = task_costs(program, graph)
        path, total = critical_path(graph, costs)
        races = race_pairs(graph) if any(d.code in RACE_CODES for d in found) else {}
        return Findings(races, redundant_edges(program, graph, found), costs, path, total)


# ---- races -----------------------------------------------------------------------------

def race_pairs(graph: TaskGraph) -> dict[tuple[int, int], Race]:
    """Every unordered hazard as (earlier, later) -> Race, with the classification of
    `safety/races.py`: errors in manual scopes and for RAW/WAW, warnings for AUTO WAR."""
    found: dict[tuple[int, int], Race] = {}

    def on_race(h: Hazard) -> None:
        found.setdefault((h.earlier.task, h.later.task),
                         Race(h.kind.value, races.is_error(graph, h)))
    races.unordered(graph, on_race)
    return found


# ---- redundant deps --------------------------------------------------------------------

def redundant_edges(program: ir.Program, graph: TaskGraph,
                    found: list[Diagnostic]) -> set[tuple[int, int]]:
    """The explicit edges added by the dep items that W302 (`safety/redundancy.py`)
    reports as redundant: every instance of such an item is implied by other edges."""
    flagged = {(d.span.start, d.span.end) for d in found
               if d.code == "W302" and d.span is not None}
    if not flagged:
        return set()
    deps = dep_clauses(program.body)
    out: set[tuple[int, int]] = set()
    for task in graph.tasks():
        clause = deps.get(task.site, ())
        for producer, index in zip(task.explicit_deps, task.dep_items):
            span = clause[index].span
            if (span.start, span.end) in flagged:
                out.add((producer, task.id))
    return out


# ---- costs and the critical path -------------------------------------------------------

def task_costs(program: ir.Program, graph: TaskGraph) -> list[float]:
    """Each task's cost: its kernel's `cost` expression on the call's sizes and scalars,
    DEFAULT_COST_CYCLES for a kernel without one (as pto-run), 0 for an alloc task (it is
    never dispatched, runtime-model.md). Results are cached per kernel and bindings, since
    loop iterations repeat them."""
    functions = {name: cost_function(k, DEFAULT_COST_CYCLES)
                 for name, k in program.kernels.items()}
    cache: dict[tuple[object, ...], float] = {}
    out: list[float] = []
    for task in graph.tasks():
        fn = functions.get(task.kernel)
        if fn is None:
            out.append(0.0)
            continue
        accesses = task.edge_accesses
        key = (task.kernel, task.scalars, *[acc.region.sizes for acc in accesses])
        cost = cache.get(key)
        if cost is None:
            cost = cache[key] = fn(accesses, task.scalars)
        out.append(cost)
    return out


def critical_path(graph: TaskGraph, costs: list[float]) -> tuple[list[int], float]:
    """The heaviest chain of kernel tasks by summed cost (ties: the earliest submitted
    producer, as in pto-run), walked in submission order, which is topological (every
    edge points forward)."""
    preds = graph.fanin_lists()
    finish = [0.0] * len(costs)
    best_pred = [-1] * len(costs)
    for t in range(len(costs)):
        start, via = 0.0, -1
        for p in preds[t]:
            if finish[p] > start or (finish[p] == start and (via == -1 or p < via)):
                start, via = finish[p], p
        finish[t] = start + costs[t]
        best_pred[t] = via
    end = max(range(len(costs)), key=lambda t: (finish[t], -t), default=-1)
    if end == -1 or finish[end] == 0.0:  # no kernel work (only dummy and alloc tasks)
        return [], 0.0
    path = [end]
    while best_pred[path[-1]] != -1:
        path.append(best_pred[path[-1]])
    # an alloc task (cost 0, never dispatched) only starts a chain: pto-run's path, a
    # chain of kernel runs, leaves it out too
    while len(path) > 1 and graph.task(path[-1]).core == "alloc":
        path.pop()
    return path[::-1], finish[end]
