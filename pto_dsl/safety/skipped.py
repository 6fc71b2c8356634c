"""Check: reads of a fresh output of a predicated task (W305).

A task with a dispatch predicate runs its kernel only if the predicate holds when it becomes
ready; otherwise the runtime completes it without running it (runtime-model.md, Dispatch
predicates), so a buffer the runtime allocated for its `new` output is never written. Its
consumers still run, and a consumer that reads that output reads memory nothing wrote. The
predicate's value is data the checker does not know, so this is a warning. One per pair of
submission sites, with the first instance and the number of others.
"""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import Task, TaskGraph
from pto_dsl.safety.fixes import more_instances


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    del program, runtime
    fresh: dict[int, tuple[Task, str]] = {}  # buffer id -> (predicated creator, its param)
    for task in graph.tasks():
        if task.predicate is not None:
            for acc in task.edge_accesses:
                if acc.tag is ir.Tag.OUTPUT:
                    fresh[acc.buffer.id] = (task, acc.param)
    if not fresh:
        return []
    found: dict[tuple[int, int], list[tuple[Task, Task, str]]] = {}
    for task in graph.tasks():
        for acc in task.accesses:
            made = fresh.get(acc.buffer.id)
            if made is not None and made[0] is not task and acc.reads:
                found.setdefault((made[0].site, task.site), []).append((made[0], task,
                                                                         acc.param))
    return [_diagnostic(pairs) for pairs in found.values()]


def _diagnostic(pairs: list[tuple[Task, Task, str]]) -> Diagnostic:
    producer, consumer, param = pairs[0]
    return warning(
        "W305", f"'{consumer.kernel}' reads '{param}', a fresh output of '{producer.kernel}', "
        f"which runs only if its predicate holds: otherwise nothing writes that output",
        consumer.span,
        notes=[Note(f"'{producer.kernel}' has the predicate here", producer.span),
               Note(f"first instance: {producer.label} and {consumer.label}"
                    f"{more_instances(len(pairs))}")],
        help=("write the output into an existing tensor whose contents are valid either way, "
              "or read it only when the predicate holds",),
        stage=Stage.VALIDATION)
