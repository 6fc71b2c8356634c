"""The runtime's dispatch settings in the model (runtime-model.md): early resolve at wiring
and the dispatch predicate's test when a task becomes ready."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

from pto_dsl.sim.memory import Memory, NoData
from pto_dsl.sim.ring import COMPLETED, TaskSlot
from pto_dsl.types import DTYPE_INFO

if TYPE_CHECKING:
    from pto_dsl.sim.scheduler import Scheduler

_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
    ">=": operator.ge, "<=": operator.le}


def early_wiring(sched: Scheduler, slot: TaskSlot, producers: list[TaskSlot],
                 done: int) -> None:
    """A task may be staged early only off producers that are all flagged (an alloc task
    is), and never with a predicate; producers done or fully on cores count at once, and
    if that is all of them while one is still running, the task is a candidate now."""
    if not producers or slot.predicate is not None or slot.shape == "dummy" \
            or not all(p.early for p in producers):
        return
    slot.early_ok = True
    slot.dispatch_fanin = sum(1 for p in producers
                              if p.state >= COMPLETED or (p.blocks_left == 0 and p.running))
    if done < len(producers) and slot.dispatch_fanin == len(producers):
        sched.early_candidate(slot)


def predicate_holds(memory: Memory, slot: TaskSlot) -> bool:
    """Read the element as the runtime does: its bytes as a signed integer of its width,
    compared with the target. An element the model holds no data for passes."""
    tensor, indices, op, target = slot.predicate
    try:
        value = int(memory.read(tensor, indices))
    except NoData:
        return True
    bits = DTYPE_INFO[tensor.dtype][1] * 8
    value &= (1 << bits) - 1
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return _OPS[op](value, target)
