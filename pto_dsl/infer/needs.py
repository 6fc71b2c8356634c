"""Per task: the producers that an inferred submission must name in its deps.

Two kinds of need, both read off one instantiated graph in which the inferred submissions
carry only the deps their user wrote:

* **Ordering.** Every hazard (pto_dsl.safety.hazards) whose later task is inferred must be
  ordered, since a manual scope adds no edges of its own (runtime-model.md). Tasks are visited
  in submission order and each one's conflicting producers from the latest down: a producer
  that already reaches the task, through the runtime's edges or the deps chosen so far, is
  implied, otherwise the task gets a dep on it. This is a transitive reduction: no chosen
  dep is implied by the others.
* **Retention** (runtime-model.md). A task using a buffer that a producer created needs some
  direct consumer of that producer that cannot finish before it. Per creator, the users are
  visited from the latest down: one not yet held gets the dep itself, and the earlier users
  that reach it are held through it (the hand-written "last update names the alloc" shape).
"""

from __future__ import annotations

from pto_dsl.graph import TaskGraph
from pto_dsl.safety import hazards
from pto_dsl.safety.ordering import Ordering


class _Reach(Ordering):
    """Ordering over a growing set of edges that always point forward in time."""

    def __init__(self, graph: TaskGraph) -> None:
        super().__init__(graph)
        self.preds: list[list[int]] = [list(p) for p in graph.fanin_lists()]
        self.succs: list[list[int]] = [list(s) for s in graph.fanout_lists()]
        self._preds = self.preds

    def add(self, producer: int, consumer: int) -> None:
        self.preds[consumer].append(producer)
        self.succs[producer].append(consumer)

    def ancestors(self, tasks: list[int], bound: int, found: set[int]) -> set[int]:
        """Add to `found` the given tasks and every task after `bound` that reaches one of
        them (tasks already in `found` are not walked again); return it."""
        stack = [t for t in tasks if t not in found]
        found.update(stack)
        preds = self.preds
        while stack:
            for p in preds[stack.pop()]:
                if p > bound and p not in found:
                    found.add(p)
                    stack.append(p)
        return found


def required(graph: TaskGraph, inferred: set[int]) -> dict[int, list[int]]:
    """For each task of an inferred site: the producers its deps must name, latest first
    for the ordering needs, then the retention needs."""
    targets = {t.id for t in graph.tasks() if t.site in inferred}
    conflicts: dict[int, set[int]] = {t: set() for t in targets}

    def on_hazard(h: hazards.Hazard) -> None:
        later = h.later.task
        if later in targets:
            conflicts[later].add(h.earlier.task)
    hazards.find(graph, on_hazard)

    reach = _Reach(graph)
    chosen: dict[int, list[int]] = {t: [] for t in targets}
    for task in sorted(targets):
        for producer in sorted(conflicts[task], reverse=True):
            if not reach.ordered(producer, task):
                reach.add(producer, task)
                chosen[task].append(producer)
    for creator, users in _users(graph, targets).items():
        held = reach.ancestors(reach.succs[creator], creator, set())
        for user in sorted(users, reverse=True):
            if user not in held:
                reach.add(creator, user)
                chosen[user].append(creator)
                reach.ancestors([user], creator, held)
    return chosen


def _users(graph: TaskGraph, targets: set[int]) -> dict[int, set[int]]:
    """Creator task -> the inferred tasks that use one of the buffers it created."""
    out: dict[int, set[int]] = {}
    for task in targets:
        for acc in graph.task(task).accesses:
            owner = acc.buffer.owner
            if owner is not None and owner != task:
                out.setdefault(owner, set()).add(task)
    return out
