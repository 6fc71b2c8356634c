"""Check: every orchestration-side element access is ordered with the tasks that touch the
element (E204).

An access (`t[i]` read, `t[i] = v` write) waits only for the tensor's creator and its
TensorMap writers, and a write also for the consumers those hold (runtime-model.md):
a task submitted before the access that writes the element (or, before a write, reads it)
must have completed by then, through that wait or an earlier one. Tasks submitted after
the access are ordered by the orchestrator itself. One diagnostic per access and task
submission site, with the first instance and the number of others.
"""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, error
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.element_sets import overlap
from pto_dsl.graph import Access, HostRead, Task, TaskGraph
from pto_dsl.regions import Overlap
from pto_dsl.safety import columns
from pto_dsl.safety.columns import uses_of
from pto_dsl.safety.fixes import more_instances
from pto_dsl.safety.hazards import Flat, pairs
from pto_dsl.safety.ordering import first_waits


@dataclass
class _Group:
    access: HostRead
    task: Task
    acc: Access
    count: int = 0


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    if not graph.host_reads:
        return []
    uses = _Uses(graph)
    groups: dict[tuple[int, int], _Group] = {}
    for index, h in enumerate(graph.host_reads):
        flat = uses.of(h.access.buffer.id, h.write)
        if not flat:
            continue
        first = first_waits(graph)
        for tid, acc in pairs(flat):
            if tid >= h.after_tasks:
                break
            if not (acc.writes or h.write) or first[tid] <= index:
                continue
            if overlap(h.access.region, acc.region) is Overlap.NO_OVERLAP:
                continue
            task = graph.task(tid)
            group = groups.setdefault((index, task.site), _Group(h, task, acc))
            group.count += 1
    merged: dict[tuple[int, int], _Group] = {}  # one per access site and task site
    for (index, site), group in groups.items():
        key = (graph.host_reads[index].span.start, site)
        if key in merged:
            merged[key].count += group.count
        else:
            merged[key] = group
    return [_diagnostic(g) for g in merged.values()]


class _Uses:
    """The task uses of a buffer, as `hazards.by_buffer` lists them, made at the first
    access that can conflict with one: a write, or a read when some task writes it."""

    def __init__(self, graph: TaskGraph) -> None:
        self.graph = graph
        self.cols, self.groups = columns.access_columns(graph), columns.buffer_groups(graph)
        self.made: dict[int, tuple[bool, Flat | None]] = {}  # buffer -> (written, uses)

    def of(self, buffer_id: int, write: bool) -> Flat:
        written, flat = self.made.get(buffer_id, (None, None))
        if written is None:
            run = self.groups.find(buffer_id)
            written = run is not None and bool(self.cols.writes[self.groups.run(run)].any())
            self.made[buffer_id] = (written, None)
        if not (written or write):
            return []
        if flat is None:
            run = self.groups.find(buffer_id)
            flat = [] if run is None else uses_of(self.graph, self.groups.run(run))
            self.made[buffer_id] = (written, flat)
        return flat


def _diagnostic(g: _Group) -> Diagnostic:
    h, task, acc = g.access, g.task, g.acc
    kind = ("write after write" if acc.writes else "write after read") if h.write \
        else "read after write"
    does, did = ("writes", "writes" if acc.writes else "reads") if h.write \
        else ("reads", "writes")
    buf = h.access.buffer.name
    message = (f"race ({kind}): the orchestration {does} an element of '{buf}' here, which "
               f"'{task.kernel}' {did}, and it does not wait for '{task.kernel}' to finish")
    notes = [Note(f"'{task.kernel}' {did} it here", task.span),
             Note(f"first instance: {task.label} and the element {h.access.region} of "
                  f"'{buf}'{more_instances(g.count)}")]
    if task.in_manual:
        why = ("a task in a manual scope leaves no TensorMap entry, so the wait before the "
               "access does not find it; access the element before submitting the task, "
               "or after reading an element of an output of a task that depends on it")
    elif not acc.writes:
        why = ("the TensorMap records writers only, so the wait before a write does not find "
               f"a task that only reads: pass the tensor to '{task.kernel}' as 'inout'")
    else:
        why = ("the wait before the access finds the tensor's creator and the TensorMap "
               "writers of the tensor accessed (a manual_dep argument leaves no entry)")
    return error("E204", message, h.span, notes=notes, help=(why,), stage=Stage.VALIDATION)
