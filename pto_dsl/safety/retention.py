"""Check: a runtime-allocated buffer is still alive while a task uses it (reference §2.5).

The runtime may recycle the buffer of a task P once P's scope has ended on the orchestrator
side and every consumer that recorded P as a producer (a direct edge from P, of any origin)
has finished. Scope end does not wait for anything, so a task R using P's buffer is safe
only if some direct consumer C of P cannot finish before R does: C is R, or R reaches C.
A violation is a warning (W301): with the runtime's large heaps it rarely bites, but nothing
prevents it. A task not even ordered after a creator that wrote the buffer is left to the
race check. One diagnostic per pair of submission sites, with the number of instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import Access, Task, TaskGraph
from pto_dsl.safety.fixes import dep_fix, dep_fix_edits, more_instances
from pto_dsl.safety.ordering import Ordering


@dataclass
class _Group:
    reader: Task
    creator: Task
    access: Access
    count: int = 0
    params: dict[str, None] = field(default_factory=dict)


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    preds = graph.fanin_lists()
    succs = graph.fanout_lists()
    holders: dict[int, set[int]] = {}  # creator -> tasks that reach one of its consumers
    order = Ordering(graph)
    groups: dict[tuple[int, int], _Group] = {}
    for task in graph.tasks():
        held: set[int] = set()
        lost: dict[int, list[Access]] = {}
        for acc in task.accesses:
            owner = acc.buffer.owner
            if owner is None or owner == task.id or owner in held:
                continue
            if owner in lost:
                lost[owner].append(acc)
            elif task.id in succs[owner] or task.id in _holders(owner, preds, succs, holders):
                held.add(owner)
            else:
                lost[owner] = [acc]
        for owner, accesses in lost.items():
            creator = graph.task(owner)
            if creator.core != "alloc" and not order.ordered(owner, task.id):
                continue  # the creator wrote the buffer: the race check reports this
            group = groups.setdefault((creator.site, task.site),
                                      _Group(task, creator, accesses[0]))
            group.count += 1
            for acc in accesses:
                group.params.setdefault(acc.param, None)
    return [_diagnostic(program, g) for g in groups.values()]


def _holders(owner: int, preds: list[tuple[int, ...]], succs: list[list[int]],
             cache: dict[int, set[int]]) -> set[int]:
    """Every task submitted after `owner` that reaches (or is) a direct consumer of it."""
    found = cache.get(owner)
    if found is None:
        found = set(succs[owner])
        stack = list(found)
        while stack:
            for p in preds[stack.pop()]:
                if p > owner and p not in found:
                    found.add(p)
                    stack.append(p)
        cache[owner] = found
    return found


def _diagnostic(program: ir.Program, g: _Group) -> Diagnostic:
    reader, creator = g.reader, g.creator
    params = ", ".join(f"'{p}'" for p in g.params)
    return warning(
        "W301", f"'{reader.kernel}' uses {params}, created by '{creator.kernel}', but neither "
        f"it nor a task that finishes after it holds '{creator.kernel}': the buffer may be "
        f"recycled while '{reader.kernel}' runs", reader.span,
        notes=[Note(f"'{creator.kernel}' creates it here", creator.span),
               Note(f"first instance: {creator.label} and {reader.label}, buffer "
                    f"'{g.access.buffer.name}'{more_instances(g.count)}")],
        help=(dep_fix(program, creator, reader),
              "a dep retains its producer's buffers until the consumer finishes; ordering "
              "through other tasks does not (reference §2.5)"),
        stage=Stage.VALIDATION, fixes=dep_fix_edits(program, creator, reader))
