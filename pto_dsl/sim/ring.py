"""Task slots and rings: the runtime's per-ring task window and output heap (runtime-model.md).


A ring hands out local task ids in order; a task's slot is `local & (window - 1)`, so a
slot is reused once `last_task_alive` has passed its previous task. Only live tasks are
held: the model's memory does not grow with the number of tasks submitted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PENDING, COMPLETED, CONSUMED = 0, 2, 3  # the stored states of runtime-model.md


class TaskSlot:
    """One task's slot state (runtime-model.md: fanin/fanout counters and task_state) with
    what the scheduler needs to run it (kernels, arguments, cost) and its timing."""

    __slots__ = ("args", "blocks", "blocks_left", "core", "cp", "cp_ns", "cp_prev", "cycles",
                 "dispatch_fanin", "duration", "early", "early_ok", "end", "fanin", "fanin_count",
                 "fanin_refcount", "fanout", "fanout_count", "fanout_refcount", "heap_end",
                 "kernels", "local", "out_addrs", "pending", "predicate", "ready_time", "ring",
                 "running", "seq", "shape", "staged", "stale", "start", "state", "sync", "tag",
                 "task_id")

    def __init__(self, task_id: int, ring: int, local: int, seq: int, tag: Any = None,
                 heap_end: int = 0) -> None:
        self.task_id, self.ring, self.local, self.seq = task_id, ring, local, seq
        self.tag = tag  # the caller's label for traces (not part of the runtime)
        self.heap_end = heap_end  # the end of its packed outputs in its ring's heap
        self.state = PENDING
        # producers this task holds (released when done), consumers waiting for it to
        # complete, and the owning scope's reference among its fanout (runtime-model.md)
        self.fanin: list[TaskSlot] = []
        self.fanout: list[TaskSlot] = []
        self.fanin_count = self.fanin_refcount = self.fanout_refcount = 0
        self.fanout_count = 1
        # v0: producers linked although CONSUMED; their release goes to whatever task
        # holds the slot when this task finishes (the refcount desync, runtime-model.md)
        self.stale: list[TaskSlot] = []
        self.out_addrs: tuple[int, ...] = ()
        self.kernels: Any = None
        self.args: Any = None
        self.shape = "alloc"
        self.blocks = self.blocks_left = 1  # SPMD blocks, and those not yet dispatched
        self.running = 0  # blocks on a core now
        self.sync = False  # require_sync_start: every block starts at once
        # early resolve (runtime-model.md): this task's flag; whether it may be staged off
        # its producers (all flagged, no predicate); producers fully on cores or done; and
        # the cores of its blocks staged (gated) before it is ready
        self.early = self.early_ok = False
        self.dispatch_fanin = 0
        self.staged: list[list[int]] = []
        self.predicate: Any = None  # (tensor, indices, op, target): set_predicate
        self.duration = self.cycles = 0.0  # its time on a core (ns) and its kernel's cost
        # the heaviest chain of kernel costs ending with this task (cycles, as pto-graph
        # weighs it), that chain's summed kernel time (ns) and the producer before it
        self.cp = self.cp_ns = 0.0
        self.cp_prev = -1  # seq (-1: none)
        self.ready_time = self.start = self.end = 0.0
        self.core: list[int] = []
        self.pending: Any = None  # numerics: results to store when the task ends


def align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


class Ring:
    """One ring: a task window of `window` slots and a heap of `heap_size` bytes at `base`.

    The heap is a ring buffer reclaimed at the `last_task_alive` watermark: its tail is the
    end of the packed outputs of the last reclaimed task (runtime-model.md).
    """

    def __init__(self, index: int, window: int, heap_size: int, base: int,
                 on_reclaim: Callable[[TaskSlot], None], rebase: bool = True) -> None:
        self.index, self.window, self.mask = index, window, window - 1
        self.slots: list[TaskSlot | None] = [None] * window
        # per slot, (local id, critical path, its time, seq) of the last task reclaimed
        self.retired: list[tuple[int, float, float, int]] = [(-1, 0.0, 0.0, -1)] * window
        self.current = 0  # current_task_index: the next local id
        self.last_alive = 0  # last_task_alive: the oldest local id not reclaimed
        self.heap_size, self.base = heap_size, base
        self.head = self.tail = 0
        self.rebase = rebase  # the target rebases an empty heap to 0 (runtime-model.md)
        self.anchor = -1  # local id of the task that rebased; older tails are ignored
        # stale releases (v0 refcount desync) owed to the next task of each slot
        self.credit: dict[int, int] = {}
        self.peak_live = 0
        self.peak_heap = 0
        self.on_reclaim = on_reclaim

    @property
    def live(self) -> int:
        return self.current - self.last_alive

    def is_live(self, local: int) -> bool:
        return self.last_alive <= local < self.current

    def slot_of(self, local: int) -> TaskSlot | None:
        """The task `local` if it still holds its slot (it is live), else None."""
        if self.last_alive <= local < self.current:
            return self.slots[local & self.mask]
        return None

    def window_full(self) -> bool:
        # live tasks per ring stay <= window - 1 (runtime-model.md)
        return self.live + 1 >= self.window

    def heap_offset(self, size: int) -> int | None:
        """Where `size` bytes fit in the heap now, or None if they do not (yet): at the
        top, else wrapped to 0 below the tail, else (a target that rebases) at 0 when
        the heap holds no live packed buffer (top == tail)."""
        head, tail = self.head, self.tail
        if size == 0:
            return head
        if head >= tail:
            if head + size <= self.heap_size:
                return head
            if size < tail:
                return 0
            if self.rebase and head == tail and size <= self.heap_size:
                self.head = self.tail = 0
                self.anchor = self.current
                return 0
            return None
        return head if head + size < tail else None

    def allocate(self, seq: int, task_id: int, offset: int, size: int,
                 tag: Any = None) -> TaskSlot:
        local = self.current
        head = self.head = offset + size
        slot = self.slots[local & self.mask] = TaskSlot(task_id, self.index, local, seq, tag,
                                                       head)
        if self.credit:  # releases meant for the slot's previous task land on this one
            slot.fanout_refcount += self.credit.pop(local & self.mask, 0)
        self.current = local + 1
        tail = self.tail
        used = head - tail if head >= tail else self.heap_size - tail + head
        if used > self.peak_heap:
            self.peak_heap = used
        if local + 1 - self.last_alive > self.peak_live:
            self.peak_live = local + 1 - self.last_alive
        return slot

    def stale_release(self, producer: TaskSlot) -> TaskSlot | None:
        """A release meant for `producer`, linked while CONSUMED: it lands on the slot's
        state, reset when the producer was reclaimed. Returns a newer task it landed on."""
        index = producer.local & self.mask
        now = self.slots[index]
        if now is producer:
            producer.fanout_refcount += 1  # not reclaimed yet: the reset will erase it
            return None
        if now is None:
            self.credit[index] = self.credit.get(index, 0) + 1
            return None
        now.fanout_refcount += 1
        return now

    def advance(self) -> int:
        """Move last_task_alive over the contiguous run of CONSUMED tasks; returns how many
        slots were reclaimed."""
        slots, mask, n, last = self.slots, self.mask, 0, self.last_alive
        while last < self.current:
            slot = slots[last & mask]
            if slot is None or slot.state != CONSUMED:
                break
            if self.anchor < 0 or slot.local >= self.anchor:
                self.anchor = -1
                self.tail = slot.heap_end
            # what a later consumer that names this task still needs for the critical path
            self.retired[last & mask] = (slot.local, slot.cp, slot.cp_ns, slot.seq)
            slots[last & mask] = None
            last += 1
            self.last_alive = last  # (before the callback, which may read it)
            n += 1
            self.on_reclaim(slot)
        return n
