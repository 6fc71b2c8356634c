"""Check: explicit deps on producers the runtime has certainly retired (W303), and, at a
target that links CONSUMED producers, deps on producers that may be CONSUMED (W304).

The runtime skips a dep on a retired producer (runtime-model.md): its slot may
already hold another task. The orchestrator waits for no task (a read of task-written data is
rejected, E171), so the one thing that certainly retires a task P is its own ring wrapping
around: a ring keeps at most window - 1 live tasks, and the slot allocation of every submit
comes before its deps are read (runtime-model.md), so once a task with a local id of at
least local(P) + window - 1 has been allocated in P's ring, P has retired. A dep on P after
that point orders nothing (P has finished) and retains nothing: the runtime drops it.
One warning per dep item, with the number of instances.
"""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import TaskGraph
from pto_dsl.safety.fixes import more_instances
from pto_dsl.safety.redundancy import dep_clauses


@dataclass
class _Item:
    count: int = 0
    example: tuple[int, int, int] = (0, 0, 0)  # producer, consumer, tasks after it in its ring


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    return retired(program, graph, runtime) + maybe_consumed(program, graph)


def retired(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    reach = runtime.task_window - 1
    # at most `id distance` tasks are allocated in any ring between two tasks: only deps at
    # least `reach` submissions apart can name a retired task (most graphs have none)
    if not any(task.id - p >= reach for task in graph.tasks() for p in task.explicit_deps):
        return []
    allocated: dict[int, int] = {}  # ring -> tasks allocated so far
    local: list[int] = []  # task id -> local id in its ring
    items: dict[tuple[int, int], _Item] = {}
    for task in graph.tasks():
        ring = task.ring
        local.append(allocated.get(ring, 0))
        allocated[ring] = local[-1] + 1
        for producer, index in zip(task.explicit_deps, task.dep_items):
            p_ring = graph.task(producer).ring
            ahead = allocated[p_ring] - 1 - local[producer]
            if ahead >= reach:
                item = items.setdefault((task.site, index), _Item())
                if not item.count:
                    item.example = (producer, task.id, ahead)
                item.count += 1
    if not items:
        return []
    deps = dep_clauses(program.body)
    return [_diagnostic(graph, runtime, deps[site][index], item)
            for (site, index), item in items.items()]


def _diagnostic(graph: TaskGraph, runtime: RuntimeConfig, dep: ir.Dep,
                item: _Item) -> Diagnostic:
    producer, consumer = graph.task(item.example[0]), graph.task(item.example[1])
    return warning(
        "W303", f"dep '{dep.label}' names a task that has certainly retired: the runtime "
        "skips it", dep.span,
        notes=[Note(f"first instance: {producer.label} -> {consumer.label}; "
                    f"{item.example[2]} tasks were allocated after {producer.label} in ring "
                    f"{producer.ring}, whose window holds {runtime.task_window - 1} live tasks"
                    f"{more_instances(item.count)}")],
        help=("the producer has finished, so the order holds anyway, but the dep retains "
              "nothing: remove it, or keep the tasks that use its buffers in its scope",
              "docs/runtime-model.md, Retired producers: a dep on a retired producer is skipped"),
        stage=Stage.VALIDATION)


def maybe_consumed(program: ir.Program, graph: TaskGraph) -> list[Diagnostic]:
    """W304: a dep on a producer whose scope ended before the consumer's submission. All
    tasks submitted before a consumer may have finished by then, so such a producer may be
    CONSUMED (not yet reclaimed). A target that drops such an edge loses only what it
    retained (W301 counts no hold through it); one that links it corrupts the slot's
    reference counts (docs/runtime-model.md, CONSUMED producers)."""
    if graph.rules.drops_consumed_producers:
        return []
    items: dict[tuple[int, int], _Item] = {}
    paths: dict[int, frozenset[int]] = {}
    for task in graph.tasks():
        for producer, index in zip(task.explicit_deps, task.dep_items):
            scope = graph.task(producer).scope
            if scope is None:
                continue
            if task.scope is None:
                open_ = False
            else:
                path = paths.get(task.scope.id)
                if path is None:
                    path = paths[task.scope.id] = frozenset(task.scope.path())
                open_ = scope.id in path
            if not open_:
                item = items.setdefault((task.site, index), _Item())
                if not item.count:
                    item.example = (producer, task.id, 0)
                item.count += 1
    if not items:
        return []
    deps = dep_clauses(program.body)
    return [_consumed(graph, deps[site][index], item) for (site, index), item in items.items()]


def _consumed(graph: TaskGraph, dep: ir.Dep, item: _Item) -> Diagnostic:
    producer, consumer = graph.task(item.example[0]), graph.task(item.example[1])
    assert producer.scope is not None
    return warning(
        "W304", f"dep '{dep.label}' names a task whose scope has ended: it may already be "
        "CONSUMED, and this target links it anyway, which corrupts its slot's reference "
        "counts", dep.span,
        notes=[Note(f"first instance: {producer.label} -> {consumer.label}"
                    f"{more_instances(item.count)}"),
               Note(f"the scope of {producer.label} ends before {consumer.label} is submitted",
                    producer.scope.decl.span)],
        help=("the consumer's release then lands on whatever task reuses the slot, which "
              "may be reclaimed early or never; keep both tasks in one scope, or drop the dep "
              "if the order holds otherwise (the current runtime drops such an edge itself)",
              "docs/runtime-model.md, CONSUMED producers"),
        stage=Stage.VALIDATION)
