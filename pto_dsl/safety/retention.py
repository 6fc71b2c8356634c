"""Check: a runtime-allocated buffer is still alive while a task uses it (W301;
docs/runtime-model.md, "Retention").

Each ring is reclaimed in submission order, so the buffer of a task P lives while any task
H of P's ring submitted no later than P is unconsumed. A task R using P's buffer is safe
iff some such H is held until R finishes: a consumer C holds H through a *retaining* edge
(which origins retain is the target's rule), C is R or R reaches C, and H's scope is
still open when C is submitted (otherwise H may already be CONSUMED, and the edge holds
nothing). Scope end waits for nothing, so an open scope alone holds nothing. A task not
ordered after a creator that wrote the buffer is left to the race check. One warning per
pair of submission sites, with the number of instances and the cheapest dep that helps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import Access, Task, TaskGraph
from pto_dsl.safety import columns
from pto_dsl.safety.fixes import dep_fix, dep_fix_edits, more_instances
from pto_dsl.safety.held import NONE_HELD, RINGS, held_in_ring, oldest_held
from pto_dsl.safety.ordering import Ordering

__all__ = [
    "NONE_HELD",
    "RINGS",
    "ScopeTest",
    "cheapest_holder",
    "check",
    "oldest_held",
    "unheld_users",
]



@dataclass
class _Group:
    reader: Task
    creator: Task
    access: Access
    count: int = 0
    params: dict[str, None] = field(default_factory=dict)


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig,
          screened: bool = True) -> list[Diagnostic]:
    """W301 per pair of sites. Only the tasks `_unscreened` leaves are examined
    (`screened=False` examines every task: the same findings, tests/test_checks_screen.py)."""
    users = _unscreened(graph) if screened else range(len(graph))
    if not users:
        return []
    held = oldest_held(graph, graph.rules.retaining_origins)
    order = Ordering(graph)
    groups = _groups(graph, held, order, users)
    if not groups:
        return []
    every = frozenset(o.value for _, _, origins in graph.edges() for o in origins)
    held_by_any = oldest_held(graph, every) if every != graph.rules.retaining_origins else held
    held_if_live = oldest_held(graph, graph.rules.retaining_origins, need_open=False)
    return [_diagnostic(program, graph, order, g, held_by_any, held_if_live)
            for g in groups.values()]


def unheld_users(graph: TaskGraph) -> list[int]:
    """The tasks a W301 warning is about, the first instance of each pair of sites: each
    uses a buffer that nothing it waits for keeps alive (the explorer runs them long)."""
    users = _unscreened(graph)
    if not users:
        return []
    groups = _groups(graph, oldest_held(graph, graph.rules.retaining_origins), Ordering(graph),
                     users)
    return [g.reader.id for g in groups.values()]


def _unscreened(graph: TaskGraph) -> list[int]:
    """The tasks, in order, with a use of another task's buffer whose creator may be
    unheld: no retaining edge from the creator, whose scope is open at the user, holds it
    directly (found in bulk), and the oldest task held of the creator's ring is younger."""
    cols, owner = columns.access_columns(graph), columns.owners(graph)
    used = np.flatnonzero((owner >= 0) & (owner != cols.task))
    creator, user = owner[used], cols.task[used]
    edge = columns.edge_index(columns.edge_keys(graph), len(graph), creator, user)
    direct = edge >= 0
    direct[direct] = columns.retaining_edges(graph, graph.rules.retaining_origins)[edge[direct]]
    direct &= columns.open_at(graph, creator, user)
    left = np.flatnonzero(~direct)
    if not len(left):
        return []
    creator, user = creator[left], user[left]
    rings = columns.task_rings(graph)[creator]
    unheld = np.zeros(len(user), np.bool_)
    for ring in np.unique(rings).tolist():
        mine = np.flatnonzero(rings == ring)
        held = held_in_ring(graph, graph.rules.retaining_origins, ring)
        unheld[mine] = held[user[mine]] > creator[mine]
    users: list[int] = np.unique(user[unheld]).tolist()
    return users


def _groups(graph: TaskGraph, held: list[list[int]], order: Ordering,
            users: Iterable[int]) -> dict[tuple[int, int], _Group]:
    """The uses of buffers whose creator nothing holds, per (creator site, user site),
    among the tasks `users` (ascending)."""
    groups: dict[tuple[int, int], _Group] = {}
    for task in map(graph.task, users):
        mine = held[task.id]
        lost: dict[int, list[Access]] = {}
        for acc in task.accesses:
            owner = acc.buffer.owner
            if owner is None or owner == task.id:
                continue
            if mine[graph.task(owner).ring] > owner:
                lost.setdefault(owner, []).append(acc)
        for owner, accesses in lost.items():
            creator = graph.task(owner)
            if creator.core != "alloc" and not order.ordered(owner, task.id):
                continue  # the creator wrote the buffer: the race check reports this
            group = groups.setdefault((creator.site, task.site),
                                      _Group(task, creator, accesses[0]))
            group.count += 1
            for acc in accesses:
                group.params.setdefault(acc.param, None)
    return groups


class ScopeTest:
    """Is the scope a producer was submitted in still open when a consumer is submitted
    (the producer's scope encloses the consumer's, or is the entry's own level)?"""

    def __init__(self) -> None:
        self._paths: dict[int, frozenset[int]] = {}

    def __call__(self, producer: Task, consumer: Task) -> bool:
        if producer.scope is None:
            return True
        if consumer.scope is None:
            return False
        path = self._paths.get(consumer.scope.id)
        if path is None:
            path = self._paths[consumer.scope.id] = frozenset(consumer.scope.path())
        return producer.scope.id in path


def cheapest_holder(program: ir.Program, graph: TaskGraph, order: Ordering, creator: Task,
                    reader: Task, limit: int = 64) -> Task | None:
    """The task to name in a dep of `reader` that keeps `creator`'s buffer alive at the
    least cost: a task of the creator's ring submitted no later than it, whose scope is
    open at the reader; preferring one the reader already has an edge from (the dep adds
    no edge), then one already ordered before the reader (no new wait), then one a task
    variable can name at the reader, then the nearest to the creator."""
    open_at = ScopeTest()
    producers = set(graph.fanin_lists()[reader.id])
    reaching = program.sites[reader.site].reaching
    named = {s for sites in reaching.values() for s in sites}
    best: tuple[tuple[int, int, int], Task] | None = None
    seen = 0
    for h in range(creator.id, -1, -1):
        task = graph.task(h)
        if task.ring != creator.ring or not open_at(task, reader):
            continue
        seen += 1
        cost = (0 if h in producers else 1 if order.ordered(h, reader.id) else 2,
                0 if task.site in named else 1, creator.id - h)
        if best is None or cost < best[0]:
            best = (cost, task)
        if seen >= limit or cost[:2] == (0, 0):
            break
    return best[1] if best is not None else None


def _diagnostic(program: ir.Program, graph: TaskGraph, order: Ordering, g: _Group,
                held_by_any: list[list[int]], held_if_live: list[list[int]]) -> Diagnostic:
    reader, creator = g.reader, g.creator
    params = ", ".join(f"'{p}'" for p in g.params)
    notes = [Note(f"'{creator.kernel}' creates it here", creator.span),
             Note(f"first instance: {creator.label} and {reader.label}, buffer "
                  f"'{g.access.buffer.name}'{more_instances(g.count)}")]
    if held_by_any[reader.id][creator.ring] <= creator.id:
        notes.append(Note("only edges that do not retain at this target hold such a task "
                          "(a TensorMap edge orders but does not hold its producer)"))
    if held_if_live[reader.id][creator.ring] <= creator.id:
        notes.append(Note("the deps that would hold such a task name it after its scope "
                          "ended: it may already be CONSUMED by then, and such an edge holds "
                          "nothing (the runtime drops it, or at v0 corrupts its counts)"))
    holder = cheapest_holder(program, graph, order, creator, reader)
    fix = dep_fix(program, holder, reader) if holder is not None else (
        f"no task of ring {creator.ring} submitted up to '{creator.kernel}' is in a scope "
        f"still open at '{reader.kernel}': submit '{reader.kernel}' in the scope of "
        f"'{creator.kernel}'")
    return warning(
        "W301", f"'{reader.kernel}' uses {params}, created by '{creator.kernel}', but no "
        f"task that finishes after it holds '{creator.kernel}' or an older task of its ring "
        f"(ring {creator.ring}): the buffer may be recycled while '{reader.kernel}' runs",
        reader.span, notes=notes,
        help=(fix, "a dep holds its producer until the consumer finishes, and each ring is "
              "reclaimed in order, so it also keeps every later task's buffers of that ring "
              "(docs/runtime-model.md, Retention)"),
        stage=Stage.VALIDATION,
        fixes=dep_fix_edits(program, holder, reader) if holder is not None else ())
