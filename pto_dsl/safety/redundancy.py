"""Check: explicit deps that add nothing (W302).

A dep item is redundant when, in every instance where it adds an edge P -> R, the order it
gives is implied by the other edges (P reaches another producer of R, or the runtime creates
the edge P -> R itself through a creator or TensorMap lookup) and retention does not need it:
R uses no buffer of P, another direct consumer of P finishes only after R, or the runtime's
own edge is a creator edge, which retains too (reference §2.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl import ir
from pto_dsl.dep_edits import remove_dep
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import Origin, Task, TaskGraph
from pto_dsl.safety.ordering import Ordering


@dataclass
class _Item:
    edges: int = 0  # instances where this dep item added an edge
    redundant: int = 0
    example: tuple[int, int] | None = None  # (producer, consumer) of one redundant instance
    by_runtime: bool = True  # every redundant instance is also a creator/TensorMap edge


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    order = Ordering(graph)
    preds = graph.fanin_lists()
    succs = graph.fanout_lists()
    items: dict[tuple[int, int], _Item] = {}
    for task in graph.tasks():
        if not task.explicit_deps:
            continue
        producers = preds[task.id]
        for producer, index in zip(task.explicit_deps, task.dep_items):
            item = items.setdefault((task.site, index), _Item())
            item.edges += 1
            origins = graph.origins(producer, task.id)
            by_runtime = len(origins) > 1 or origins[0] is not Origin.EXPLICIT
            # a task's only producer is implied by nothing else (the common case)
            implied = by_runtime or (len(producers) > 1 and any(
                q != producer and order.ordered(producer, q) for q in producers))
            # a creator edge also retains; a TensorMap edge orders only (as at HEAD)
            held = Origin.CREATOR in origins
            if implied and (held or not _retains(graph, order, succs, producer, task)):
                item.redundant += 1
                item.by_runtime = item.by_runtime and by_runtime
                item.example = item.example or (producer, task.id)
    deps = dep_clauses(program.body)
    return [_diagnostic(graph, deps[site], index, item) for (site, index), item in items.items()
            if item.edges and item.redundant == item.edges
            and not deps[site][index].inferred]  # the compiler's deps are its own business


def _retains(graph: TaskGraph, order: Ordering, succs: list[list[int]], producer: int,
             task: Task) -> bool:
    """Whether the edge producer -> task is what keeps a buffer `task` uses alive."""
    if not any(acc.buffer.owner == producer for acc in task.accesses):
        return False
    return not any(c != task.id and order.ordered(task.id, c) for c in succs[producer])


def dep_clauses(stmts: tuple[ir.Stmt, ...]) -> dict[int, tuple[ir.Dep, ...]]:
    out: dict[int, tuple[ir.Dep, ...]] = {}
    for s in stmts:
        if isinstance(s, ir.Submit):
            out[s.site.id] = s.deps
        elif isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            out.update(dep_clauses(s.body))
        elif isinstance(s, ir.IfStmt):
            out.update(dep_clauses(s.then))
            out.update(dep_clauses(s.orelse))
    return out


def _diagnostic(graph: TaskGraph, clause: tuple[ir.Dep, ...], index: int,
                item: _Item) -> Diagnostic:
    assert item.example is not None
    dep = clause[index]
    fix = remove_dep([d.span for d in clause], index, dep.var.name)
    producer, consumer = (graph.task(t) for t in item.example)
    why = ("the runtime creates this edge itself (a creator or TensorMap edge)"
           if item.by_runtime else
           f"'{consumer.kernel}' already waits for '{producer.kernel}' through its other "
           "producers, and does not need it to keep a buffer alive")
    count = f"all {item.edges} instances" if item.edges > 1 else "its one instance"
    return warning(
        "W302", f"dep '{dep.var.name}' is redundant: {why}", dep.span,
        notes=[Note(f"in {count}, for example {producer.label} -> {consumer.label}")],
        help=(f"remove '{dep.var.name}' from this dep clause",), stage=Stage.VALIDATION,
        fixes=(fix,) if fix else ())
