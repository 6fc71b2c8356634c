"""Check: explicit deps that add nothing (W302).

A dep item is redundant when, in every instance where it adds an edge P -> R, the order it
gives is implied by the other edges (P reaches another producer of R, or the runtime creates
the edge P -> R itself through a creator or TensorMap lookup) and retention does not need it:
R uses no buffer of P, another direct consumer of P finishes only after R, or the runtime's
own edge is a creator edge, which retains too; and, as each ring is reclaimed in order, R
holds a task of P's ring no later than P by other means (a dep that holds nothing else may
keep later buffers alive: docs/runtime-model.md, Retention).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from pto_dsl import ir
from pto_dsl.dep_edits import remove_dep
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import Origin, Task, TaskGraph
from pto_dsl.safety.held import successors
from pto_dsl.safety.ordering import Ordering
from pto_dsl.safety.retention import ScopeTest, oldest_held


@dataclass
class _Item:
    edges: int = 0  # instances where this dep item added an edge
    redundant: int = 0
    example: tuple[int, int] | None = None  # (producer, consumer) of one redundant instance
    by_runtime: bool = True  # every redundant instance is also a creator/TensorMap edge


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig,
          exhaustive: bool = False) -> list[Diagnostic]:
    """W302 per redundant dep item. Once one instance of an item needs its edge the item is
    not reported, so its later instances are only counted, and a task whose clause's items
    are all so kept is passed over (`exhaustive` examines them all: the same findings,
    tests/test_checks_fast.py)."""
    order = Ordering(graph)
    preds = graph.fanin_lists()
    keeps = _Lazy(lambda: _KeepsRing(graph, order))  # needed by few programs' deps
    deps = dep_clauses(program.body)
    items: dict[tuple[int, int], _Item] = {}
    needed = dict.fromkeys(deps, 0)  # per site, its items an instance needs
    for task in graph.tasks():
        if not task.explicit_deps or needed[task.site] == len(deps[task.site]):
            continue  # every item of the clause is kept: its instances change nothing
        producers = preds[task.id]
        for producer, index in zip(task.explicit_deps, task.dep_items):
            item = items.get((task.site, index))
            if item is None:
                item = items[(task.site, index)] = _Item()
            item.edges += 1
            if item.redundant < item.edges - 1 and not exhaustive:
                continue  # an earlier instance needs the edge: the item is kept anyway
            origins = graph.origins(producer, task.id)
            by_runtime = len(origins) > 1 or origins[0] is not Origin.EXPLICIT
            # a task's only producer is implied by nothing else (the common case)
            implied = by_runtime or (len(producers) > 1 and any(
                q != producer and order.ordered(producer, q) for q in producers))
            # a creator edge also retains; a TensorMap edge orders only (as at HEAD)
            held = Origin.CREATOR in origins
            if implied and (held or not (_retains(graph, order, producer, task)
                                         or keeps(producer, task.id))):
                item.redundant += 1
                item.by_runtime = item.by_runtime and by_runtime
                item.example = item.example or (producer, task.id)
            elif item.redundant == item.edges - 1 and not exhaustive:
                needed[task.site] += 1  # this instance is the item's first to need it
    return [_diagnostic(graph, deps[site], index, item) for (site, index), item in items.items()
            if item.edges and item.redundant == item.edges
            and not deps[site][index].inferred]  # the compiler's deps are its own business


def _retains(graph: TaskGraph, order: Ordering, producer: int, task: Task) -> bool:
    """Whether the edge producer -> task is what keeps a buffer `task` uses alive."""
    if not any(acc.buffer.owner == producer for acc in task.accesses):
        return False
    first, succs = successors(graph)
    return not any(c != task.id and order.ordered(task.id, c)
                   for c in succs[first[producer]:first[producer + 1]])


class _Lazy:
    """A `_KeepsRing` built at its first call (it walks the whole graph)."""

    def __init__(self, make: Callable[[], _KeepsRing]) -> None:
        self._make = make
        self._made: _KeepsRing | None = None

    def __call__(self, producer: int, consumer: int) -> bool:
        made = self._made
        if made is None:
            made = self._made = self._make()
        return made(producer, consumer)


class _KeepsRing:
    """Whether the edge P -> R keeps alive a buffer that R, or a task reaching R, uses:
    R's only hold on some task of P's ring no later than the buffer's creator X (P <= X)."""

    LIMIT = 256  # (creator, user) pairs examined per edge; beyond, assume it is needed

    def __init__(self, graph: TaskGraph, order: Ordering) -> None:
        self.graph, self.order = graph, order
        self.retaining = graph.rules.retaining_origins
        self.held = oldest_held(graph, self.retaining)
        self.open_at = ScopeTest()
        self.uses: dict[int, list[tuple[int, int]]] = {}  # ring -> sorted (creator, user)
        for t in graph.tasks():
            for acc in t.accesses:
                owner = acc.buffer.owner
                if owner is not None and owner != t.id:
                    self.uses.setdefault(graph.task(owner).ring, []).append((owner, t.id))
        for pairs in self.uses.values():
            pairs.sort()

    def __call__(self, producer: int, consumer: int) -> bool:
        graph = self.graph
        p, c = graph.task(producer), graph.task(consumer)
        if not self.open_at(p, c):
            return False  # P may be CONSUMED when R is submitted: the edge holds nothing
        ring, alt = p.ring, consumer
        for s in graph.fanout_lists()[consumer]:
            alt = min(alt, self.held[s][ring])
        for q in graph.fanin_lists()[consumer]:
            if q != producer and q < alt and graph.task(q).ring == ring and \
                    any(o.value in self.retaining for o in graph.origins(q, consumer)) and \
                    self.open_at(graph.task(q), c):
                alt = q
        pairs = self.uses.get(ring, [])
        start = bisect.bisect_left(pairs, (producer, -1))
        for k, (creator, user) in enumerate(pairs[start:]):
            if creator >= alt or k >= self.LIMIT:
                return k >= self.LIMIT
            if user <= consumer and (user == consumer or self.order.ordered(user, consumer)):
                return True
        return False


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
    fix = remove_dep([d.span for d in clause], index, dep.label)
    producer, consumer = (graph.task(t) for t in item.example)
    why = ("the runtime creates this edge itself (a creator or TensorMap edge)"
           if item.by_runtime else
           f"'{consumer.kernel}' already waits for '{producer.kernel}' through its other "
           "producers, and does not need it to keep a buffer alive")
    count = f"all {item.edges} instances" if item.edges > 1 else "its one instance"
    return warning(
        "W302", f"dep '{dep.label}' is redundant: {why}", dep.span,
        notes=[Note(f"in {count}, for example {producer.label} -> {consumer.label}")],
        help=(f"remove '{dep.label}' from this dep clause",), stage=Stage.VALIDATION,
        fixes=(fix,) if fix else ())
