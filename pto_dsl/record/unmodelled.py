"""What a recorded run did that pto-dsl's task graph has no place for yet: early-resolve
hints, dispatch predicates, orchestration writes (`set_tensor_data`), and the values of
orchestration reads of data a task computes (the recording runs no kernel).

Each is recorded faithfully (which task, which element, which comparison) and kept beside
the graph; the checks do not see it. One warning (W809) per kind, at its first call site,
says so with the counts, so that a finding is never silently missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.graph import Buffer
from pto_dsl.regions import Region
from pto_dsl.source import Span

OPS = {1: "==", 2: "!=", 3: ">", 4: "<", 5: ">=", 6: "<="}  # the runtime's PredicateOp


@dataclass(frozen=True)
class Predicate:
    """A task's dispatch predicate: `element op target` decides at dispatch whether the
    task runs or is retired without running (its consumers are released either way)."""

    task: int
    buffer: int  # the operand's buffer id in the graph
    region: Region  # the operand's view
    index: tuple[int, ...]  # the element inside the view
    op: str
    target: int


@dataclass(frozen=True)
class HostWrite:
    """An orchestration-side write of one element (`set_tensor_data`)."""

    buffer: int
    region: Region
    index: tuple[int, ...]
    after_tasks: int  # how many tasks were submitted before it
    span: Span


@dataclass
class Unmodelled:
    early_resolve: list[int] = field(default_factory=list)  # task ids
    predicates: list[Predicate] = field(default_factory=list)
    host_writes: list[HostWrite] = field(default_factory=list)
    computed_reads: int = 0  # orchestration reads of data a task computes
    first: dict[str, Span] = field(default_factory=dict)  # per kind, its first call site
    sites: dict[str, set[Span]] = field(default_factory=dict)

    def task_line(self, tid: int, f: list[str], span: Span, buffers: Mapping[int, Buffer],
                  region: Callable[[list[str], int], Region]) -> None:
        """One `P` line of a submit's trace: `P e`, or `P p op target h dtype manual nd
        layout.. offsets.. sizes.. index..` (`region` parses a box from a field)."""
        if f[1] == "e":
            self.early_resolve.append(tid)
            self.seen("early", span)
            return
        op, target, handle, nd = int(f[2]), int(f[3]), int(f[4]), int(f[7])
        box = region(f[:8 + 3 * nd], 7)
        index = tuple(int(x) for x in f[8 + 3 * nd:])
        self.predicates.append(Predicate(tid, buffers[handle].id, box, index,
                                         OPS.get(op, f"op {op}"), target))
        self.seen("predicate", span)

    def seen(self, kind: str, span: Span) -> None:
        self.first.setdefault(kind, span)
        self.sites.setdefault(kind, set()).add(span)

    def warnings(self) -> list[Diagnostic]:
        out = []
        counts = {"early": len(self.early_resolve), "predicate": len(self.predicates),
                  "write": len(self.host_writes), "computed": self.computed_reads}
        for kind, span in self.first.items():
            n, sites = counts[kind], len(self.sites[kind])
            one, many, effect = _TEXT[kind]
            what = one if n == 1 else many
            out.append(warning(
                "W809", f"not yet modelled: {n} {what} at {sites} call "
                f"site{'s' if sites != 1 else ''}; {effect}", span,
                notes=(Note(_NOTE.get(kind, "recorded in the trace, not seen by the graph "
                                              "checks")),),
                help=(_HELP[kind],), stage=Stage.INSTANTIATION))
        return out


_TEXT = {  # one, several, what the checks do instead
    "early": ("task allows early resolve (set_allow_early_resolve)",
              "tasks allow early resolve (set_allow_early_resolve)",
              "the graph checks order such a task as any other"),
    "predicate": ("task carries a dispatch predicate (set_predicate)",
                  "tasks carry a dispatch predicate (set_predicate)",
                  "the graph checks treat such a task as always dispatched"),
    "write": ("orchestration write (set_tensor_data)", "orchestration writes (set_tensor_data)",
              "the graph checks do not see these writes"),
    "computed": ("orchestration read of data a task computes (get_tensor_data)",
                 "orchestration reads of data a task computes (get_tensor_data)",
                 "the recording run saw the case's contents or zeros there, not the task's "
                 "result, and what the orchestration did next followed those values"),
}
_NOTE = {"computed": "the read is in the graph (the orchestrator waits for the data's "
                    "producers); its value is not known without running the kernels"}
_HELP = {
    "early": "an early-resolve hint changes when a consumer may be dispatched, not which "
             "edges it has",
    "predicate": "the runtime reads the predicate's element at dispatch: the task that "
                 "writes it must be one of the task's producers",
    "write": "the runtime orders an orchestration write after the tasks that use the data",
    "computed": "pto-run makes the same read on the simulator, whose kernels (their impl) "
                "compute the data, but follows the recorded run's calls",
}
