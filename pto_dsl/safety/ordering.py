"""What the runtime guarantees about the order of two tasks: a path of edges (runtime-model.md:
explicit, creator and TensorMap edges all make a consumer wait)."""

from __future__ import annotations

from collections.abc import Sequence

from pto_dsl.graph import TaskGraph


class Ordering:
    """Answers "does `later` start only after `earlier` finished?" for tasks of one graph.

    Every edge points from an earlier submission to a later one, so a backward search from
    `later` never needs to visit tasks submitted before `earlier`.
    """

    def __init__(self, graph: TaskGraph) -> None:
        self._preds: Sequence[Sequence[int]] = graph.fanin_lists()

    def ordered(self, earlier: int, later: int) -> bool:
        if earlier == later:
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
