"""The scheduler side of the model: a discrete-event simulation of the a2a3 machine
(runtime-model.md).

Cores: `block_dim` clusters of 1 AIC and 2 AIV; one ready queue per resource shape (MIX
first, then AIC, AIV); a MIX task needs a fully idle cluster. An SPMD task of N blocks
runs each block on its own cores (a cluster per block for MIX) as they become idle and
completes when its last block ends; a require_sync_start task goes before every other
ready task and starts all its blocks at once, and while it waits for enough idle cores
nothing else is dispatched (the runtime's stop-the-world drain, runtime-model.md).
Early resolve (runtime-model.md): once every producer of a task is flagged and fully on
cores (or done), the task's blocks may be staged, gated, on idle cores that no ready task
of its shape wants; they start, by a doorbell, the moment the task becomes ready. A task
with a dispatch predicate that fails when it becomes ready completes without a core.
Scheduler threads own the clusters round-robin and spend time per dispatch and per
completion. Completion follows runtime-model.md: COMPLETED, fanout walk (consumers become
ready), release of the fanin producers, CONSUMED check, and `last_task_alive` advance
through the ring.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from pto_dsl.sim.params import Params
from pto_dsl.sim.ring import COMPLETED, CONSUMED, Ring, TaskSlot


class Executor(Protocol):
    """Runs a task's kernel: reads its inputs when it starts, stores its writes at its end."""

    def start(self, slot: TaskSlot) -> None: ...

    def finish(self, slot: TaskSlot) -> None: ...


class Span(NamedTuple):
    """One task's run on a core: a row of the schedule (times in ns). Made with every
    field (`step`): give a new field no default."""

    seq: int
    tag: Any
    core: int
    start: float
    end: float
    cp_prev: int  # the task before this one on its longest chain of kernel times (-1: none)


_new = tuple.__new__  # a Span per task without its Python-level __new__ (no defaults)


class Scheduler:
    # one-core shapes dispatched in ready order without copying the idle queues (no
    # --explore), and a consumer without predicate, hold or staged blocks queued as ready
    # inline; tests/test_sim_fast.py turns it off to compare with the general paths
    fast_dispatch = True

    def __init__(self, params: Params, rings: list[Ring], executor: Executor | None,
                 rng: random.Random | None) -> None:
        self.params, self.rings, self.executor, self.rng = params, rings, executor, rng
        n = params.block_dim
        self.n_clusters = n
        self.core_names = ([f"AIC{c}" for c in range(n)]
                           + [f"AIV{k}" for k in range(params.aiv_per_cluster * n)])
        # idle cores per kind, the longest idle first (dispatch rotates over the cores)
        self.idle: dict[str, deque[int]] = {
            "aic": deque(range(n)), "aiv": deque(range(n, n + params.aiv_per_cluster * n))}
        # each core's idle queue, by core
        self.idle_of = [self.idle["aic"]] * n + [self.idle["aiv"]] * (params.aiv_per_cluster * n)
        self.ready: dict[str, deque[TaskSlot]] = {
            s: deque() for s in ("dummy", "sync", "mix", "aic", "aiv")}
        self.thread_clock = [0.0] * params.scheduler_threads
        # the scheduler thread that owns each core's cluster (round-robin over clusters)
        self.thread_of = [self.cluster_of(core) % params.scheduler_threads
                          for core in range(len(self.core_names))]
        self.busy = [0.0] * len(self.core_names)
        # (end, tie-break, task, cores, start): one entry per running block
        self.events: list[tuple[float, int, TaskSlot, list[int], float]] = []
        self._counter = itertools.count()
        self.now = 0.0
        self.last_end = 0.0
        self.schedule: list[Span] | None = []  # None: not recorded (saves memory)
        # dummy tasks run on no core, so they have no row in the schedule; their spans
        # (core -1) keep the critical path's chain through them
        self.dummy_spans: dict[int, Span] = {}
        self.completed = 0
        # --explore's adversarial schedules: tasks (by seq) held back this long once ready,
        # and tasks whose run takes this much longer (their writes land that much later)
        self.holds: dict[int, float] = {}
        self.stretches: dict[int, float] = {}
        self.held: list[tuple[float, int, TaskSlot]] = []
        self.early: list[TaskSlot] = []  # early-dispatch candidates, in the order found
        self.staged_blocks = 0  # blocks started by a doorbell after early staging
        # set_predicate: whether a ready task's predicate holds (the runtime model reads
        # the element); how many predicated tasks ran and were skipped
        self.predicate_holds: Callable[[TaskSlot], bool] = lambda slot: True
        self.predicated = [0, 0]

    # ---- cores ----------------------------------------------------------------------
    def cluster_of(self, core: int) -> int:
        n = self.n_clusters
        return core if core < n else (core - n) // self.params.aiv_per_cluster

    def _cluster_cores(self, c: int, mix: tuple[bool, bool, bool]) -> list[int] | None:
        """The cores a MIX task with slot mask `mix` takes in cluster c, if it is idle."""
        n, per = self.n_clusters, self.params.aiv_per_cluster
        aivs = [n + per * c + k for k in range(per)]
        if c not in self.idle["aic"] or any(a not in self.idle["aiv"] for a in aivs):
            return None  # a MIX task needs a fully idle cluster (runtime-model.md)
        return [core for core, used in zip([c] + aivs[:2], mix) if used]

    # ---- readiness and dispatch -----------------------------------------------------
    def make_ready(self, slot: TaskSlot, t: float) -> None:
        slot.ready_time = t
        if slot.predicate is not None:
            holds = self.predicate_holds(slot)
            self.predicated[0 if holds else 1] += 1
            if not holds:  # retired inline through the dependency-only path
                self.ready["dummy"].append(slot)
                return
        if self.holds and slot.seq in self.holds:
            slot.ready_time = t + self.holds[slot.seq]
            heapq.heappush(self.held, (slot.ready_time, next(self._counter), slot))
            if slot.staged:
                self._ring(slot)
            return
        if slot.staged:
            self._ring(slot)
            if slot.blocks_left == 0:
                return
        self.ready["sync" if slot.sync else slot.shape].append(slot)

    # ---- early resolve (runtime-model.md) -------------------------------------------
    def early_candidate(self, slot: TaskSlot) -> None:
        """Every producer of `slot` is flagged and fully on cores or done: its blocks may
        be staged on idle cores before it is ready."""
        self.early.append(slot)

    def _propagate(self, slot: TaskSlot) -> None:
        """A flagged task has all its blocks on cores: count it for its consumers."""
        for c in slot.fanout:
            if c.early_ok:
                c.dispatch_fanin += 1
                if c.dispatch_fanin == c.fanin_count:
                    self.early.append(c)

    def _stage_early(self) -> None:
        """Stage candidates' blocks, gated, on idle cores that no ready task of their shape
        wants; a sync-start task all at once or not at all."""
        keep: list[TaskSlot] = []
        for slot in self.early:
            if slot.fanin_refcount == slot.fanin_count or slot.blocks_left == 0:
                continue  # ready meanwhile (it went the normal way), or fully staged
            keep.append(slot)
            if self.ready[slot.shape] or self.ready["sync"]:
                continue  # normal dispatch first
            places = self._places(slot, slot.blocks_left)
            if slot.sync and len(places) < slot.blocks_left:
                continue
            n = self.n_clusters
            for cores in places:
                for core in cores:
                    self.idle["aic" if core < n else "aiv"].remove(core)
                thread = self.cluster_of(cores[0]) % len(self.thread_clock)
                self.thread_clock[thread] = max(self.thread_clock[thread],
                                                self.now) + self.params.dispatch_ns
                slot.staged.append(cores)
                slot.blocks_left -= 1
            if slot.blocks_left == 0 and slot.early:
                self._propagate(slot)
        self.early = [s for s in keep if s.blocks_left > 0]

    def _ring(self, slot: TaskSlot) -> None:
        """The task is ready: its staged blocks start at once (the doorbell)."""
        staged, slot.staged = slot.staged, []
        for cores in staged:
            self.staged_blocks += 1
            self._start(slot, cores, slot.ready_time + self.params.doorbell_ns)

    def _pick(self, queue: deque[TaskSlot]) -> int:
        """The queue position to dispatch next: the head, or under --explore any task."""
        return 0 if self.rng is None else self.rng.randrange(len(queue))

    def _places(self, slot: TaskSlot, k: int) -> list[list[int]]:
        """Up to k sets of idle cores for blocks of `slot`, not yet taken: a fully idle
        cluster per block of a MIX task (runtime-model.md), an idle core otherwise."""
        if slot.shape == "mix":
            mask, places = slot.kernels.mask, []
            for c in range(self.n_clusters):
                cores = self._cluster_cores(c, mask)
                if cores is not None:
                    places.append(cores)
                    if len(places) == k:
                        break
            return places
        idle = list(self.idle[slot.shape])
        if self.rng is not None and len(idle) > k:
            idle = self.rng.sample(idle, k)
        return [[core] for core in idle[:k]]

    def _take(self, slot: TaskSlot, places: list[list[int]]) -> None:
        n = self.n_clusters
        for cores in places:
            for core in cores:
                self.idle["aic" if core < n else "aiv"].remove(core)
            self._start(slot, cores)
        if slot.early and slot.blocks_left == 0 and slot.fanout:
            self._propagate(slot)  # fully published: consumers may be staged

    def dispatch(self) -> None:
        dummies = self.ready["dummy"]
        while dummies:  # dependency-only tasks take no core: complete them at once
            slot = dummies.popleft()
            done = max(self.now, slot.ready_time) + self.params.complete_ns
            if self.schedule is not None:
                self.dummy_spans[slot.seq] = Span(slot.seq, slot.tag, -1, done, done,
                                                  slot.cp_prev)
            self.complete(slot, done)
        sync = self.ready["sync"]
        while sync:  # sync-start tasks first, all blocks at once; until then nothing else
            slot = sync[0]
            places = self._places(slot, slot.blocks_left)
            if len(places) < slot.blocks_left:
                return
            sync.popleft()
            self._take(slot, places)
        self._dispatch_shapes()
        if self.early:
            self._stage_early()

    def _dispatch_shapes(self) -> None:
        ready, one_core = self.ready, self.rng is None and self.fast_dispatch
        for shape in ("mix", "aic", "aiv"):
            queue = ready[shape]
            if not queue:
                continue
            if one_core and shape != "mix":
                idle = self.idle[shape]
                if idle:
                    self._dispatch_in_order(queue, idle)
                continue
            while queue:
                i = self._pick(queue)
                slot = queue[i]
                places = self._places(slot, slot.blocks_left)
                if not places:
                    break
                self._take(slot, places)
                if slot.blocks_left == 0:
                    del queue[i]

    def _dispatch_in_order(self, queue: deque[TaskSlot], idle: deque[int]) -> None:
        """The loop of `_dispatch_shapes` for a one-core shape in ready order (no
        --explore): the head task's blocks take the longest idle cores, as `_places`
        picks them and `_take` starts them, without copying the idle queue."""
        while queue and idle:
            slot = queue[0]
            if slot.blocks_left == 1:  # (the loop below, for one block)
                self._start(slot, [idle.popleft()])
            else:
                for _ in range(min(slot.blocks_left, len(idle))):
                    self._start(slot, [idle.popleft()])
            if slot.blocks_left == 0:
                if slot.early and slot.fanout:
                    self._propagate(slot)  # fully published: consumers may be staged
                queue.popleft()

    def _start(self, slot: TaskSlot, cores: list[int], at: float | None = None) -> None:
        """Start one block of `slot` on `cores` (a task of one block: the whole task); at
        `at` for a block staged earlier, else when its thread has dispatched it."""
        if at is None:
            thread, clocks = self.thread_of[cores[0]], self.thread_clock
            start = self.now
            if slot.ready_time > start:
                start = slot.ready_time
            if clocks[thread] > start:
                start = clocks[thread]
            start += self.params.dispatch_ns
            clocks[thread] = start
        else:
            start = at
            slot.blocks_left += 1  # counted as dispatched when staged
        duration = slot.duration
        if self.rng is not None:  # --explore: durations vary, and a quarter of the tasks
            duration *= self.rng.uniform(0.5, 1.5)  # are slow (interference, contention)
            if self.rng.random() < 0.25:
                duration *= self.rng.uniform(1.0, 8.0)
        if self.stretches:
            duration += self.stretches.get(slot.seq, 0.0)
        slot.blocks_left -= 1
        slot.running += 1
        if not slot.core:  # its first block
            slot.core, slot.start, slot.end = cores, start, start + duration
            if self.executor is not None:  # the kernel reads its inputs as it starts
                self.executor.start(slot)
        elif start + duration > slot.end:
            slot.end = start + duration
        heapq.heappush(self.events, (start + duration, next(self._counter), slot, cores, start))

    # ---- events ---------------------------------------------------------------------
    def run_until(self, t: float) -> None:
        events, held = self.events, self.held
        while (events and events[0][0] <= t) or (held and held[0][0] <= t):
            self.step()

    def step(self) -> bool:
        """Process the next block's end (or release of a held task); False if nothing is
        running or held. A task completes when its last block ends."""
        events = self.events
        if self.held and (not events or self.held[0][0] <= events[0][0]):
            when, _, held = heapq.heappop(self.held)
            self.now = max(self.now, when)
            if held.blocks_left:  # (blocks staged early have started already)
                self.ready["sync" if held.sync else held.shape].append(held)
            self.dispatch()
            return True
        if not events:
            return False
        end, _, slot, cores, start = heapq.heappop(events)
        if end > self.now:
            self.now = end
        if end > self.last_end:
            self.last_end = end
        busy, idle_of = self.busy, self.idle_of
        for core in cores:
            idle_of[core].append(core)
            busy[core] += end - start
        if self.schedule is not None:
            self.schedule.append(_new(Span, (slot.seq, slot.tag, cores[0], start, end,
                                             slot.cp_prev)))
        slot.running -= 1
        if slot.running == 0 and slot.blocks_left == 0:
            if self.executor is not None:
                self.executor.finish(slot)
            thread, clocks = self.thread_of[cores[0]], self.thread_clock
            done = clocks[thread]
            if end > done:
                done = end
            done += self.params.complete_ns + self.params.complete_edge_ns * len(slot.fanout)
            clocks[thread] = done
            self.complete(slot, done)
        ready = self.ready
        if ready["mix"] or ready["aic"] or ready["aiv"] or ready["dummy"] or ready["sync"] \
                or self.early:
            self.dispatch()
        return True

    # ---- task life cycle (runtime-model.md) ---------------------------------------
    def complete(self, slot: TaskSlot, t: float) -> None:
        slot.state = COMPLETED
        self.completed += 1
        if slot.fanout:
            ready, plain = self.ready, self.fast_dispatch and not self.holds
            for consumer in slot.fanout:
                consumer.fanin_refcount += 1
                if consumer.fanin_refcount == consumer.fanin_count:
                    if plain and consumer.predicate is None and not consumer.staged:
                        consumer.ready_time = t  # make_ready's common case, inline
                        ready["sync" if consumer.sync else consumer.shape].append(consumer)
                    else:
                        self.make_ready(consumer, t)
            slot.fanout = []
        rings = self.rings
        if slot.fanin:
            producers, slot.fanin = slot.fanin, []
            for p in producers:  # release, then consumed (inlined: every completion)
                p.fanout_refcount += 1
                if p.state == COMPLETED and p.fanout_refcount == p.fanout_count:
                    p.state = CONSUMED
                    ring = rings[p.ring]
                    if p.local == ring.last_alive:  # (else the ring cannot advance yet)
                        ring.advance()
        if slot.stale:
            for p in slot.stale:
                landed = rings[p.ring].stale_release(p)
                if landed is not None:
                    self.check_consumed(landed)
        if slot.fanout_refcount == slot.fanout_count:
            slot.state = CONSUMED
            ring = rings[slot.ring]
            if slot.local == ring.last_alive:
                ring.advance()

    def release(self, slot: TaskSlot) -> None:
        """Drop one reference to `slot` (a consumer finished, or its scope ended)."""
        slot.fanout_refcount += 1
        if slot.state == COMPLETED and slot.fanout_refcount == slot.fanout_count:
            self.consumed(slot)

    def check_consumed(self, slot: TaskSlot) -> None:
        if slot.state == COMPLETED and slot.fanout_refcount == slot.fanout_count:
            self.consumed(slot)

    def consumed(self, slot: TaskSlot) -> None:
        """CONSUMED: every reference released (runtime-model.md); the ring may advance."""
        slot.state = CONSUMED
        self.rings[slot.ring].advance()

    def utilization(self, makespan: float) -> dict[str, float]:
        if makespan <= 0:
            return {name: 0.0 for name in self.core_names}
        return {name: busy / makespan for name, busy in zip(self.core_names, self.busy)}
