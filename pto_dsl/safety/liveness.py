"""Check: explicit deps on producers the runtime has certainly retired (W303).

The runtime skips a dep on a retired producer (reference §2.1 step 6, §2.5): its slot may
already hold another task. The orchestrator waits for no task (a read of task-written data is
rejected, E171), so the one thing that certainly retires a task P is its own ring wrapping
around: a ring keeps at most window - 1 live tasks (§2.7), and the slot allocation of every
submit comes before its deps are read (§2.1 step 4), so once a task with a local id of at
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
        "W303", f"dep '{dep.var.name}' names a task that has certainly retired: the runtime "
        "skips it", dep.span,
        notes=[Note(f"first instance: {producer.label} -> {consumer.label}; "
                    f"{item.example[2]} tasks were allocated after {producer.label} in ring "
                    f"{producer.ring}, whose window holds {runtime.task_window - 1} live tasks"
                    f"{more_instances(item.count)}")],
        help=("the producer has finished, so the order holds anyway, but the dep retains "
              "nothing: remove it, or keep the tasks that use its buffers in its scope",
              "reference §2.5: a dep on a retired producer is skipped silently"),
        stage=Stage.VALIDATION)
