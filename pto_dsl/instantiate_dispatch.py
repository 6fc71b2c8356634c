"""Instantiation of a submission's dispatch predicate (`predicate t[i] OP n`).

The runtime resolves the predicate at submit to the element's address and the scheduler
reads it when the task is ready (runtime-model.md, Dispatch predicates): the orchestration
never reads it, so the element may well be computed by a task. The task graph records it
as one more read of the task, of that element, which takes no edge (the runtime looks
nothing up for it): the checks then see the read like any other, so a predicate whose
writer is not ordered before the task is a race.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl.graph import Access
from pto_dsl.instantiate_host import check_index, point
from pto_dsl.types import INT64_MAX, INT64_MIN

if TYPE_CHECKING:
    from pto_dsl.instantiate import Frame, Instantiator

# The access's parameter name: what a race or a picture calls the predicate's read.
PREDICATE_PARAM = "predicate"

Evaluated = tuple[Access, str, int]  # the element's access, the op, the target


def predicate_of(inst: Instantiator,
                 pred: ir.Predicate | None) -> Callable[[Frame], Evaluated] | None:
    """The predicate's element (bounds checked) and target of each submission."""
    if pred is None:
        return None
    tensor, target = inst.expr(pred.tensor), inst.expr(pred.target)
    indices = [inst.expr(i) for i in pred.indices]
    op, span = pred.op, pred.span

    def evaluate(f: Frame) -> Evaluated:
        tv = tensor(f)
        index = tuple(i(f) for i in indices)
        check_index(inst, tv, index, span, "predicate index")
        n = target(f)
        if not INT64_MIN <= n <= INT64_MAX:
            inst.fail("E170", f"the predicate's target {n} does not fit in an int64", span,
                      help=("the runtime's predicate target is an int64",))
        return Access(tv.buffer, point(tv, index), ir.Tag.INPUT, PREDICATE_PARAM, True), op, n
    return evaluate
