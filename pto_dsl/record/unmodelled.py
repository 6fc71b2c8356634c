"""What a recorded run did that pto-dsl's task graph has no place for yet: early-resolve
hints, dispatch predicates, and the values of orchestration reads of data a task computes
(the recording runs no kernel).

Each is recorded faithfully (which task, which element, which comparison) and kept beside
the graph; the checks do not see it. One warning (W809) per kind, at its first call site,
says so with the counts, so that a finding is never silently missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, error, warning
from pto_dsl.graph import Buffer, TaskGraph
from pto_dsl.regions import Overlap, Region, classify
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


@dataclass
class Unmodelled:
    early_resolve: list[int] = field(default_factory=list)  # task ids
    predicates: list[Predicate] = field(default_factory=list)
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

    def predicate_errors(self, graph: TaskGraph) -> list[Diagnostic]:
        """The runtime reads a predicate's element when the task is ready, so every task that
        wrote the element before must be one of its producers (direct or not): E810 per
        pair of call sites otherwise, with the number of instances."""
        import networkx as nx

        later: dict[int, set[int]] = {}
        found: dict[tuple[int, int], tuple[Predicate, int, int]] = {}
        writes = _writes(graph, {p.buffer for p in self.predicates})
        for p in self.predicates:
            point = Region(p.region.layout, tuple(o + i for o, i in zip(p.region.offsets,
                                                                         p.index)),
                           (1,) * len(p.index))
            for w in [t for t, region in writes.get(p.buffer, ()) if t < p.task
                      and classify(point, region) is not Overlap.NO_OVERLAP]:
                if w not in later:
                    later[w] = nx.descendants(graph.nx, w)
                if p.task not in later[w]:
                    key = (graph.task(w).site, graph.task(p.task).site)
                    first = found.get(key)
                    found[key] = (first[0], first[1], first[2] + 1) if first else (p, w, 1)
        return [_unordered(graph, p, w, n) for p, w, n in found.values()]

    def seen(self, kind: str, span: Span) -> None:
        self.first.setdefault(kind, span)
        self.sites.setdefault(kind, set()).add(span)

    def warnings(self) -> list[Diagnostic]:
        out = []
        counts = {"early": len(self.early_resolve), "predicate": len(self.predicates),
                  "computed": self.computed_reads}
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
    "predicate": "the runtime reads the predicate's element at dispatch; the recorder checks "
                 "that the tasks that write it are among the task's producers (E810)",
    "computed": "pto-run makes the same read on the simulator, whose kernels (their impl) "
                "compute the data, but follows the recorded run's calls",
}


def _writes(graph: TaskGraph, buffers: set[int]) -> dict[int, list[tuple[int, Region]]]:
    """Per buffer of `buffers`, the (task, region) of every write to it in submission order
    (not an alloc task's, which writes nothing)."""
    out: dict[int, list[tuple[int, Region]]] = {}
    if not buffers:
        return out
    for t in graph.tasks():
        if t.core == "alloc":
            continue
        for a in t.accesses:
            if a.buffer.id in buffers and a.tag is not ir.Tag.INPUT:
                out.setdefault(a.buffer.id, []).append((t.id, a.region))
    return out


def _unordered(graph: TaskGraph, p: Predicate, writer: int, count: int) -> Diagnostic:
    task, w = graph.task(p.task), graph.task(writer)
    more = f"; {count - 1} more instance{'s' if count > 2 else ''}" if count > 1 else ""
    return error(
        "E810", f"the dispatch predicate of '{task.kernel}' reads an element that "
        f"'{w.kernel}' writes, and '{w.kernel}' is not among its producers: the scheduler "
        "may read it before it is written", task.span,
        notes=(Note(f"'{w.kernel}' writes it here", w.span),
               Note(f"first instance: {w.label} and {task.label}, element "
                    f"{list(p.index)} {p.op} {p.target}{more}")),
        help=(f"add a dep on the '{w.kernel}' task to this submit",
              "the runtime evaluates the predicate when the task is ready, which waits only "
              "for its producers"),
        stage=Stage.VALIDATION)
