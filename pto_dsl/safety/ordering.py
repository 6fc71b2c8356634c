"""What the runtime guarantees about the order of two tasks: a path of edges (runtime-model.md:
explicit, creator and TensorMap edges all make a consumer wait), or an orchestration-side
element access in between that waits for the earlier task to complete (the orchestrator
submits nothing while it waits, runtime-model.md)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pto_dsl.graph import TaskGraph

NEVER = 1 << 62  # a task no orchestration access waits for


def first_waits(graph: TaskGraph) -> list[int]:
    """Per task, the index (in `graph.host_reads`) of the first orchestration access before
    which it has certainly completed: one that waits for it or for a task after it on a
    path of edges; NEVER if there is none. Made once per graph (read-only)."""
    return graph.derived("first_waits", lambda: _first_waits(graph))


def _first_waits(graph: TaskGraph) -> list[int]:
    first = [NEVER] * len(graph)
    preds = graph.fanin_lists()
    for index, access in enumerate(graph.host_reads):
        stack = [t for t in access.waited if first[t] == NEVER]
        for t in stack:
            first[t] = index
        while stack:
            for p in preds[stack.pop()]:
                if first[p] == NEVER:  # a marked task's ancestors are marked already
                    first[p] = index
                    stack.append(p)
    return first


class Ordering:
    """Answers "does `later` start only after `earlier` finished?" for tasks of one graph.

    Every edge points from an earlier submission to a later one, so a backward search from
    `later` never needs to visit tasks submitted before `earlier`. With `waits`, a task an
    orchestration access waits for also finishes before every task submitted after it.
    """

    def __init__(self, graph: TaskGraph, waits: bool = False) -> None:
        self._preds: Sequence[Collection[int]] = graph.fanin_lists()
        self._done_by: list[int] | None = None
        if waits and graph.host_reads:
            after = [a.after_tasks for a in graph.host_reads]
            self._done_by = [after[k] if k != NEVER else NEVER for k in first_waits(graph)]

    @property
    def done_by(self) -> list[int] | None:
        """Per task, the number of tasks submitted before the first orchestration access
        that waits for it to finish (NEVER if none; None without `waits` or accesses)."""
        return self._done_by

    def ordered(self, earlier: int, later: int) -> bool:
        if earlier == later:
            return True
        done_by = self._done_by
        if done_by is not None and done_by[earlier] <= later:
            return True
        preds = self._preds
        if earlier in preds[later]:
            return True
        seen = {later}
        stack = [later]
        while stack:
            for p in preds[stack.pop()]:
                if p == earlier:
                    return True
                if p > earlier and p not in seen:
                    seen.add(p)
                    stack.append(p)
        return False
