"""The runtime's dependency computation for one submit (runtime-model.md steps 6, Step A,
Step B and Step 4; manual scopes; the pre-merge boundary rule: runtime-model.md), as
functions of the `Runtime` (the role of the runtime's own dep-compute module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pto_dsl.sim.api import INVALID_TASK_ID, ErrorCode, Tensor, TensorArgType
from pto_dsl.sim.ring import CONSUMED, TaskSlot

if TYPE_CHECKING:
    from pto_dsl.sim.runtime import Runtime

INPUT, OUTPUT, INOUT = TensorArgType.INPUT, TensorArgType.OUTPUT, TensorArgType.INOUT
OUTPUT_EXISTING = TensorArgType.OUTPUT_EXISTING


def explicit_deps(rt: Runtime, slot: TaskSlot, deps: Sequence[int],
                  fanin: dict[int, TaskSlot] | None = None) -> dict[int, TaskSlot] | None:
    """Explicit deps first, in both modes (runtime-model.md); into `fanin` if given."""
    if fanin is None:
        fanin = {}
    rings = rt.rings
    for dep in deps:
        ring_index, local = dep >> 32, dep & 0xFFFFFFFF
        if dep == INVALID_TASK_ID or ring_index >= len(rings) \
                or local >= rings[ring_index].current:
            rt.report_fatal(ErrorCode.INVALID_ARGS, "Arg.add_dep(...) requires a valid task id")
            return None
        ring = rings[ring_index]
        producer = ring.slots[local & ring.mask] if local >= ring.last_alive else None
        if producer is None:
            rt.skip_edge(slot, dep, "explicit")  # retired: already complete (runtime-model.md)
        elif producer.state == CONSUMED and producer.seq not in fanin:  # link, inline
            rt.consumed_edge(fanin, slot, producer, "explicit")
        else:
            rt.add_edge(fanin, slot, producer, "explicit")
    return fanin


def link(rt: Runtime, fanin: dict[int, TaskSlot], slot: TaskSlot, producer: TaskSlot,
         origin: str) -> None:
    """An edge to a live producer; one that is already CONSUMED follows the target's rule."""
    if producer.state == CONSUMED and producer.seq not in fanin:
        rt.consumed_edge(fanin, slot, producer, origin)
    else:
        rt.add_edge(fanin, slot, producer, origin)


def auto_fanin(rt: Runtime, slot: TaskSlot, tensors: list[Tensor], tags: list[TensorArgType],
               fanin: dict[int, TaskSlot]) -> None:
    """Steps A, B and 4 of runtime-model.md (outside manual scopes only, runtime-model.md)."""
    tmap = rt.tmap
    for t, tag in zip(tensors, tags):
        if tag is OUTPUT:
            continue
        if t.owner != INVALID_TASK_ID:  # Step A: creator retention
            owner = rt.live_slot(t.owner)
            if owner is not None:
                link(rt, fanin, slot, owner, "creator")
            else:
                rt.skip_edge(slot, t.owner, "creator")
        if not t.manual_dep and (tag is INPUT or tag is INOUT):  # Step B
            stale: list[int] = []
            for pid in tmap.lookup(t.addr, t.region, t.version, tag is INOUT, rt.storage(t),
                                   stale):
                producer = rt.live_slot(pid)
                if producer is not None and producer is not slot:
                    link(rt, fanin, slot, producer, "tensormap")
            for pid in stale:
                rt.skip_edge(slot, pid, "tensormap")
    for t, tag in zip(tensors, tags):  # Step 4
        if not t.manual_dep and (tag is INOUT or tag is OUTPUT_EXISTING):
            tmap.insert(t.addr, t.region, t.version, slot.task_id, slot.ring, slot.local)


def boundary_fanin(rt: Runtime, slot: TaskSlot, tensors: list[Tensor],
                    tags: list[TensorArgType], fanin: dict[int, TaskSlot]) -> None:
    """The pre-merge rule (runtime-model.md): in a manual scope only tensors produced inside
    it bypass the TensorMap; boundary tensors are still looked up and inserted."""
    tmap = rt.tmap
    for t, tag in zip(tensors, tags):
        if tag is OUTPUT or t.manual_dep or _inside_manual(rt, t):
            continue
        if tag is INPUT or tag is INOUT:
            for pid in tmap.lookup(t.addr, t.region, t.version, tag is INOUT, rt.storage(t)):
                producer = rt.live_slot(pid)
                if producer is not None and producer is not slot:
                    link(rt, fanin, slot, producer, "tensormap")
        if tag is INOUT or tag is OUTPUT_EXISTING:
            tmap.insert(t.addr, t.region, t.version, slot.task_id, slot.ring, slot.local)


def _inside_manual(rt: Runtime, t: Tensor) -> bool:
    owner = rt.live_slot(t.owner) if t.owner != INVALID_TASK_ID else None
    return owner is not None and owner.seq >= rt.manual_begin_seq
