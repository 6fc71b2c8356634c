"""The orchestrator side of the model: the runtime's submit API (runtime-model.md)
implementing its rules (runtime-model.md): rings and heaps, explicit deps first with the
retired-producer skip, creator retention and TensorMap lookups outside manual scopes,
scope references, fanin/fanout wiring, and the fatal conditions with the runtime's codes
and messages. Execution runs in the discrete-event scheduler as the orchestrator's
simulated clock advances.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

from pto_dsl import machine
from pto_dsl.dialects import CURRENT_RULES, RuntimeRules
from pto_dsl.regions import Region, classifier
from pto_dsl.sim.api import (
    EMPTY_RESULT,
    INVALID_TASK_ID,
    TENSORMAP_RULES,
    Arg,
    ErrorCode,
    MixedKernels,
    ScopeMode,
    TaskOutputTensors,
    Tensor,
    TensorArgType,
    TensorCreateInfo,
    task_local,
    task_ring,
)
from pto_dsl.sim.counts import EdgeCounts
from pto_dsl.sim.deps import auto_fanin, boundary_fanin, explicit_deps
from pto_dsl.sim.dispatch import early_wiring, predicate_holds
from pto_dsl.sim.memory import KernelCycles, KernelImpl, Memory, NoData, Numerics
from pto_dsl.sim.params import DEFAULT_PARAMS, Params
from pto_dsl.sim.record import Recorder
from pto_dsl.sim.ring import COMPLETED, CONSUMED, Ring, TaskSlot
from pto_dsl.sim.scheduler import Scheduler
from pto_dsl.sim.tmap import RuntimeTensorMap
from pto_dsl.types import dtype_size

OUTPUT = TensorArgType.OUTPUT
HEAP_BASE = 0x1000_0000_0000  # ring r's heap starts at HEAP_BASE * (r + 1)
# --explore: how often the orchestrator stalls, and for up to how many submits' time
STALL_CHANCE, STALL_SUBMITS = 0.25, 40
NO_MANUAL = 64  # manual_begin_depth sentinel = PTO2_MAX_SCOPE_DEPTH (runtime-model.md)


# per-task tuples made with tuple.__new__ and every field (no Python-level __new__ call)
_new = tuple.__new__
assert Tensor._fields == ("addr", "dtype", "region", "owner", "manual_dep", "version")
assert TaskOutputTensors._fields == ("task_id", "outputs")


class _Layout(NamedTuple):
    """An output's place in its task's packed buffer (per shape and dtype)."""

    size: int  # bytes, aligned
    elements: int  # what the runtime records as its storage: the aligned size's elements
    region: Region  # the whole output


class Fatal(Exception):
    """Raised by `Runtime.check` once the runtime has latched a fatal error."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"FATAL(code={int(code)}): {message}")
        self.code, self.message = code, message


class _Kind:
    """What the runtime caches per kernel triple: its normal form, shape and cost."""

    __slots__ = ("cycles", "kernels", "shape", "tasks")

    def __init__(self, kernels: MixedKernels, shape: str | None,
                 cycles: KernelCycles | None) -> None:
        self.kernels, self.shape, self.cycles, self.tasks = kernels, shape, cycles, 0


class Runtime:
    # skip what does nothing in the common case: the launch checks of a one-block task,
    # the early-resolve wiring of a task whose first producer is not flagged, dropping
    # stale TensorMap entries at a new output's address while the TensorMap is empty;
    # and name explicit deps on live producers in bulk (`_explicit_deps`);
    # tests/test_sim_fast.py turns it off to compare with the general paths
    fast_submit = True

    def __init__(self, params: Params = DEFAULT_PARAMS,
                 kernels: dict[MixedKernels, KernelImpl] | None = None,
                 memory: Memory | None = None, numerics: bool = True,
                 tensormap_rule: str = "merged",
                 rng: random.Random | None = None, recorder: Recorder | None = None,
                 rules: RuntimeRules = CURRENT_RULES) -> None:
        assert tensormap_rule in TENSORMAP_RULES
        self.params, self.rng, self.recorder, self.rules = params, rng, recorder, rules
        self.kernels = kernels if kernels is not None else {}
        self.memory = memory if memory is not None else Memory()
        self.numerics = numerics
        self.boundary = tensormap_rule == "boundary"
        self.rings = [Ring(r, params.task_window, params.heap_size, HEAP_BASE * (r + 1),
                           self._reclaimed, rules.heap_rebase) for r in range(params.rings)]
        # edges linked to a CONSUMED producer (a target that does not drop them), by origin
        self.consumed_links: Counter[str] = Counter()
        self._holding: set[int] = set()  # this submit's producers held by a retaining edge
        self.tmap = RuntimeTensorMap(params.rings, lambda r: self.rings[r].last_alive,
                                     classifier(rules.overlap), rules.lookup_count)
        self._storage: dict[int, int] = {}  # runtime output address -> its elements
        # per output shape and dtype: its aligned bytes, elements stored and whole region
        self._layouts: dict[tuple[tuple[int, ...], str], _Layout] = {}
        executor = Numerics(self.memory, self.kernels) if numerics else None
        self.sched = Scheduler(params, self.rings, executor, rng)
        if numerics:
            self.sched.predicate_holds = lambda slot: predicate_holds(self.memory, slot)
        self.scope_tasks: list[TaskSlot] = []
        self.scope_starts: list[int] = []
        self.manual_begin_depth = NO_MANUAL
        self.manual_begin_seq = 0
        self.fatal_code = ErrorCode.NONE
        self.fatal_message = ""
        self.log: list[str] = []
        self.orch_time = 0.0
        self.seq = 0
        self.counts = EdgeCounts()  # dependency pairs and deps.json records
        self._manual_seen = False  # whether a manual scope was opened (its one-off cost)
        # the heaviest chain of kernel costs (cycles, ties to the earliest submitted, as
        # pto-graph finds it), its summed kernel time (ns) and its last task's seq
        self.critical_cycles = 0.0
        self.critical_path = 0.0
        self.critical_end = -1
        self._kinds: dict[MixedKernels, _Kind] = {}
        self.allocs = 0
        # (tag, start, end) of each submit on the orchestrator thread, when tracing
        self.orch_trace: list[tuple[object, float, float]] | None = None
        self.progress: Callable[[Runtime], None] | None = None
        self.progress_every = 16384  # submits between calls of `progress`

    # ---- fatal errors (runtime-model.md) --------------------------------------------------
    def report_fatal(self, code: ErrorCode, message: str) -> None:
        if self.fatal_code != ErrorCode.NONE:
            return
        self.fatal_code, self.fatal_message = code, message
        self.log.append(f"FATAL(code={int(code)}): {message}")

    def is_fatal(self) -> bool:
        return self.fatal_code != ErrorCode.NONE

    def check(self) -> None:
        if self.is_fatal():
            raise Fatal(self.fatal_code, self.fatal_message)

    def _cost(self, ns: float) -> None:
        if self.rng is not None:  # --explore: the orchestrator's speed varies, and its
            ns *= self.rng.uniform(0.5, 2.0)  # thread may stall (preempted, a slow read):
            if self.rng.random() < STALL_CHANCE:  # tasks may finish between any two calls
                ns += self.rng.uniform(0.0, STALL_SUBMITS * self.params.submit_ns)
        self.orch_time += ns

    # ---- scopes (runtime-model.md) ---------------------------------------------
    @property
    def depth(self) -> int:
        """scope_stack_top: 0 in the executor's own scope."""
        return len(self.scope_starts) - 1

    def in_manual_scope(self) -> bool:
        return self.depth >= self.manual_begin_depth

    def scope_begin(self, mode: ScopeMode = ScopeMode.AUTO) -> None:
        if self.is_fatal():
            return
        if mode == ScopeMode.AUTO and self.in_manual_scope():
            self.report_fatal(ErrorCode.INVALID_ARGS,
                              "auto scope nested inside manual scope is not supported")
            return
        if len(self.scope_starts) >= self.params.max_scope_depth:
            self.report_fatal(ErrorCode.INVALID_ARGS, "scope nesting exceeds "
                              f"PTO2_MAX_SCOPE_DEPTH={self.params.max_scope_depth}")
            return
        self.scope_starts.append(len(self.scope_tasks))
        if mode == ScopeMode.MANUAL and self.manual_begin_depth == NO_MANUAL:
            self.manual_begin_depth, self.manual_begin_seq = self.depth, self.seq
        if mode == ScopeMode.MANUAL and not self._manual_seen:
            self._manual_seen = True
            self._cost(self.params.manual_first_ns)
        self._cost(self.params.scope_ns)

    def scope_end(self) -> None:
        if self.is_fatal() or not self.scope_starts:
            return
        if self.depth == self.manual_begin_depth:
            self.manual_begin_depth = NO_MANUAL
        start = self.scope_starts.pop()
        tasks = self.scope_tasks[start:]
        del self.scope_tasks[start:]
        self._cost(self.params.scope_ns + self.params.scope_task_ns * len(tasks))
        self.sched.run_until(self.orch_time)
        for slot in tasks:  # release the scope reference of each task (runtime-model.md)
            self.sched.release(slot)
        self.sched.dispatch()

    # ---- slots and heap (runtime-model.md) --------------------------------------
    def _prepare(self, size: int, tag: object) -> TaskSlot | None:
        """A slot and heap space for a task whose outputs take `size` bytes together."""
        events = self.sched.events
        if events and events[0][0] <= self.orch_time:
            self.sched.run_until(self.orch_time)
        depth, last_ring = len(self.scope_starts) - 1, self.params.rings - 1
        ring_index = depth if depth < last_ring else last_ring
        ring = self.rings[ring_index]
        in_scope = len(self.scope_tasks) - self.scope_starts[-1]
        if in_scope + 1 > ring.window - 1:
            self.report_fatal(ErrorCode.SCOPE_DEADLOCK, (
                f"FATAL: Scope Deadlock Detected! (ring {ring_index}): this scope already "
                f"holds {in_scope} tasks and the task window is {ring.window}; its tasks "
                "cannot be reclaimed before the scope ends, so the next submit would wait "
                "forever (split the scope or raise PTO2_RING_TASK_WINDOW)"))
            return None
        while True:
            # window_full, inline: live tasks per ring stay <= window - 1
            offset = None if ring.current - ring.last_alive + 1 >= ring.window \
                else ring.heap_offset(size)
            if offset is not None:
                break
            if not self.sched.step():  # nothing can finish: no slot will ever free up
                full = ring.window_full()
                self.report_fatal(
                    ErrorCode.FLOW_CONTROL_DEADLOCK if full else ErrorCode.HEAP_RING_DEADLOCK,
                    "FATAL: Task Allocator Deadlock - "
                    f"{'Task Ring Full!' if full else 'Heap Exhausted!'} (ring {ring_index})")
                return None
            self.orch_time = max(self.orch_time, self.sched.now)
        slot = ring.allocate(self.seq, (ring_index << 32) | ring.current, offset, size, tag)
        self.seq += 1
        if self.progress is not None and not self.seq % self.progress_every:
            self.progress(self)
        self.scope_tasks.append(slot)
        if self.recorder is not None:
            self.recorder.submitted(slot.seq, slot.task_id, tag)
        return slot

    def _layouts_of(self, infos: Sequence[TensorCreateInfo]) -> list[_Layout]:
        """Each output's place in the task's packed buffer: its size, 1024-B aligned
        (runtime-model.md), the elements the runtime records and its whole region."""
        layouts, out = self._layouts, []
        for i in infos:
            key = (i.shapes, i.dtype)
            found = layouts.get(key)
            if found is None:
                align, shape = self.params.output_align, i.shapes
                size = (i.nbytes + align - 1) // align * align
                found = layouts[key] = _Layout(size, size // dtype_size(i.dtype),
                                               Region(shape, (0,) * len(shape), shape))
            out.append(found)
        return out

    def _materialize(self, slot: TaskSlot, infos: Sequence[TensorCreateInfo],
                     layouts: Sequence[_Layout], size: int) -> list[Tensor]:
        """Each output at its place in the task's packed buffer, owned by the task."""
        addr = self.rings[slot.ring].base + slot.heap_end - size
        outputs: list[Tensor] = []
        addrs: list[int] = []
        task_id, numerics = slot.task_id, self.numerics
        storage, tmap = self._storage, self.tmap
        for info, (aligned, elements, region) in zip(infos, layouts):
            outputs.append(_new(Tensor, (addr, info.dtype, region, task_id, info.manual_dep, 0)))
            addrs.append(addr)
            storage[addr] = elements
            if tmap.entries or not self.fast_submit:  # (none to drop in an empty one)
                tmap.reused(addr)
            if numerics:
                self.memory.allocate(addr, info.dtype, region.numel, task_id,
                                     info.initial_value)
            addr += aligned
        slot.out_addrs = tuple(addrs)
        return outputs

    def _kind(self, kernels: MixedKernels) -> _Kind:
        normal = kernels.normalized()
        impl = self.kernels.get(normal)
        kind = self._kinds[kernels] = _Kind(normal, normal.shape,
                                            impl.cycles if impl is not None else None)
        return kind

    @property
    def task_counts(self) -> Counter[MixedKernels | None]:
        """Tasks submitted per kernel triple; None counts alloc tasks."""
        counts: Counter[MixedKernels | None] = Counter()
        for kind in self._kinds.values():
            counts[kind.kernels] += kind.tasks
        counts[None] = self.allocs
        return counts

    def storage(self, tensor: Tensor) -> int:
        """The elements of the tensor's buffer as the runtime records them: a runtime
        output's aligned size, an entry tensor's exact size."""
        found = self._storage.get(tensor.addr)
        return found if found is not None else tensor.region.numel_of_layout()

    def _reclaimed(self, slot: TaskSlot) -> None:
        self.tmap.retired(slot.ring, 1)
        storage = self._storage
        for addr in slot.out_addrs:
            storage.pop(addr, None)
        if self.numerics:
            for addr in slot.out_addrs:
                self.memory.release(addr)

    def live_slot(self, task_id: int) -> TaskSlot | None:
        ring = task_ring(task_id)
        if ring >= len(self.rings):
            return None
        return self.rings[ring].slot_of(task_local(task_id))

    # ---- submit (runtime-model.md) -----------------------------------------------------------
    def submit_dummy_task(self, args: Arg, tag: object = None) -> TaskOutputTensors:
        """A dependency-only task: deps, TensorMap and outputs as a kernel task, no core;
        it completes as soon as it is ready (runtime-model.md)."""
        return self.submit_task(MixedKernels(), args, tag, dummy=True)

    def submit_task(self, kernels: MixedKernels, args: Arg,
                    tag: object = None, dummy: bool = False) -> TaskOutputTensors:
        """`tag` labels the task in traces (the model's addition; not a runtime argument)."""
        if self.fatal_code:  # is_fatal(), inline: once per submit
            return EMPTY_RESULT
        started = self.orch_time
        if args.error is not None:
            self.log.extend(["FATAL: Invalid Arg Detected!", f"Error: {args.error}",
                             f"tensors: {len(args.tensors)}, scalars: {len(args.scalars)}",
                             "This is a bug in the orchestration code."])
            self.report_fatal(ErrorCode.INVALID_ARGS, args.error)
            return EMPTY_RESULT
        kind = self._kinds.get(kernels) or self._kind(kernels)
        if kind.shape is None and not dummy:
            self.report_fatal(ErrorCode.INVALID_ARGS, "submit needs at least one active "
                              "kernel slot in MixedKernels")
            return EMPTY_RESULT
        # (a launch of one block always passes the launch checks)
        if not dummy and (args.block_num != 1 or not self.fast_submit) \
                and not self._launch_ok(kind.shape or "", args):
            return EMPTY_RESULT
        tags = args.tags
        if OUTPUT in tags:
            infos = [t for t, tag_ in zip(args.tensors, tags) if tag_ is OUTPUT]
            layouts = self._layouts_of(infos)  # type: ignore[arg-type]
            size = sum([layout[0] for layout in layouts])
        else:
            infos, layouts, size = [], [], 0
        slot = self._prepare(size, tag)
        if slot is None:
            return EMPTY_RESULT
        holding = self._holding
        if holding:
            holding.clear()
        self.counts.submit()
        fanin: dict[int, TaskSlot] = {}
        held_all = True  # every producer in fanin is held, none is named in the counts yet
        if args.deps:
            held_all = self._explicit_deps(slot, args.deps, fanin)
            if self.fatal_code:
                return EMPTY_RESULT
        tensors: list[Tensor] = args.tensors  # type: ignore[assignment]
        outputs: list[Tensor] = []
        if infos:
            outputs = self._materialize(slot, infos, layouts, size)  # type: ignore[arg-type]
            it = iter(outputs)
            tensors = [next(it) if tag_ is OUTPUT else t
                       for t, tag_ in zip(tensors, tags)]
        tmap = self.tmap
        lookups, inserts = tmap.lookups, tmap.inserts
        if len(self.scope_starts) - 1 < self.manual_begin_depth or self.boundary:
            if held_all:  # more names follow: the counts and holds need these first
                self._named_first([p.task_id for p in fanin.values()], fanin)
                held_all = False
            if len(self.scope_starts) - 1 < self.manual_begin_depth:
                auto_fanin(self, slot, tensors, tags, fanin)
            else:
                boundary_fanin(self, slot, tensors, tags, fanin)
        elif held_all and fanin:  # the explicit deps were the only names
            self.counts.wired_only(len(fanin), "explicit")
        slot.kernels, slot.shape = kind.kernels, "dummy" if dummy else kind.shape or ""
        slot.early = args.allow_early_resolve
        if not dummy:  # a dummy task ignores the launch settings and any predicate
            n = args.block_num
            if n != 1:
                slot.blocks = slot.blocks_left = n
                slot.sync = n > 1 and args.require_sync_start
            slot.predicate = args.predicate
        kind.tasks += 1
        slot.args = (tensors, tags, args.scalars)
        p = self.params
        cycles = 0.0 if dummy else kind.cycles(tensors, args.scalars) \
            if kind.cycles is not None else p.default_cost_cycles
        slot.cycles, slot.duration = cycles, 0.0 if dummy else cycles / p.core_ghz + p.launch_ns
        ns = p.submit_ns + p.lookup_ns * (tmap.lookups - lookups) \
            + p.insert_ns * (tmap.inserts - inserts) + p.dep_ns * len(fanin)
        if self.rng is None:  # _cost, inline: once per submit
            self.orch_time += ns
        else:
            self._cost(ns)
        self._wire(slot, list(fanin.values()), None if held_all else holding)
        if self.orch_trace is not None:
            self.orch_trace.append((tag, started, self.orch_time))
        return _new(TaskOutputTensors, (slot.task_id, tuple(outputs)))

    def _explicit_deps(self, slot: TaskSlot, deps: list[int],
                       fanin: dict[int, TaskSlot]) -> bool:
        """Explicit deps first, in both modes (runtime-model.md): `deps.explicit_deps` with
        the common case inline (distinct deps, each on a live producer not CONSUMED).
        True if every dep took it: the producers are in `fanin`, all held, and not yet
        named in the counts (`submit_task` names them); False if the names are in the
        counts and the holds in `_holding` (and after a fatal error, `fatal_code` set)."""
        if self.fast_submit and self.recorder is None \
                and (len(deps) == 1 or len(set(deps)) == len(deps)):
            rings, wired = self.rings, []
            for dep in deps:
                ring_index, local = dep >> 32, dep & 0xFFFFFFFF
                if ring_index < len(rings):
                    ring = rings[ring_index]
                    if ring.last_alive <= local < ring.current:
                        producer = ring.slots[local & ring.mask]
                        if producer is not None and producer.state != CONSUMED:
                            fanin[producer.seq] = producer
                            wired.append(dep)
                            continue
                self._named_first(wired, fanin)
                wired = []
                if explicit_deps(self, slot, (dep,), fanin) is None:
                    return False
            if len(wired) == len(deps) and "explicit" in self.rules.retaining_origins:
                return True
            self._named_first(wired, fanin)
            return False
        explicit_deps(self, slot, deps, fanin)
        return False

    def _named_first(self, wired: list[int], fanin: dict[int, TaskSlot]) -> None:
        """Count the explicit deps wired so far in bulk (`add_edge`'s names and holds)."""
        if wired:
            self.counts.wired_first(wired, "explicit")
            if "explicit" in self.rules.retaining_origins:
                self._holding.update(fanin)

    def _launch_ok(self, shape: str, args: Arg) -> bool:
        """The launch checks of the submit (runtime-model.md): a sync-start task wider than
        the cores of its shape could never start, so the runtime stops (fatal 7)."""
        n = args.block_num
        if n < 1:
            self.report_fatal(ErrorCode.INVALID_ARGS, f"block_num must be >= 1 (got {n})")
            return False
        if n > 1 and args.require_sync_start:
            p = self.params
            limit = machine.sync_start_limit(shape, p.block_dim, p.aiv_per_cluster)
            if n > limit:
                self.report_fatal(ErrorCode.REQUIRE_SYNC_START_INVALID,
                                  f"require_sync_start block_num={n} > limit={limit} "
                                  "(deadlock guaranteed)")
                return False
        return True

    def submit_aic_task(self, kernel_id: int, args: Arg, tag: object = None) -> TaskOutputTensors:
        return self.submit_task(MixedKernels(aic=kernel_id), args, tag)

    def submit_aiv_task(self, kernel_id: int, args: Arg, tag: object = None) -> TaskOutputTensors:
        return self.submit_task(MixedKernels(aiv0=kernel_id), args, tag)

    def alloc_tensors(self, *infos: TensorCreateInfo, tag: object = None) -> TaskOutputTensors:
        """One hidden output-only task, COMPLETED at once, never dispatched (runtime-model.md)."""
        if self.is_fatal():
            return EMPTY_RESULT
        if not infos:
            self.report_fatal(ErrorCode.INVALID_ARGS,
                              "alloc_tensors requires at least one TensorCreateInfo")
            return EMPTY_RESULT
        layouts = self._layouts_of(infos)
        size = sum([layout[0] for layout in layouts])
        slot = self._prepare(size, tag)
        if slot is None:
            return EMPTY_RESULT
        outputs = self._materialize(slot, infos, layouts, size)
        slot.state = COMPLETED
        slot.early = True  # the runtime flags every alloc task (runtime-model.md)
        self.allocs += 1
        self._cost(self.params.alloc_ns)
        return TaskOutputTensors(slot.task_id, tuple(outputs))

    def add_edge(self, fanin: dict[int, TaskSlot], consumer: TaskSlot, producer: TaskSlot,
             origin: str) -> None:
        fanin[producer.seq] = producer  # one edge per producer (runtime-model.md)
        if origin in self.rules.retaining_origins:
            self._holding.add(producer.seq)
        self.counts.name(producer.task_id, origin, wired=True)
        if self.recorder is not None:
            self.recorder.edge(consumer.seq, producer.seq, origin)

    def consumed_edge(self, fanin: dict[int, TaskSlot], consumer: TaskSlot,
                      producer: TaskSlot, origin: str) -> None:
        """A dep or TensorMap hit on a producer that is CONSUMED but not yet reclaimed:
        dropped by a target that checks for it; linked anyway by one that does not, whose
        fanout increment is then erased by the slot's reset at reclaim while the
        consumer's release still comes (runtime-model.md, "CONSUMED producers")."""
        if self.rules.drops_consumed_producers:
            self.skip_edge(consumer, producer.task_id, origin)
            return
        self.counts.name(producer.task_id, origin, wired=True)
        self.consumed_links[origin] += 1
        if self.recorder is not None:
            self.recorder.edge(consumer.seq, producer.seq, origin)
        producer.fanout_count += 1
        if producer not in consumer.stale:
            consumer.stale.append(producer)

    def skip_edge(self, consumer: TaskSlot, producer_id: int, origin: str) -> None:
        """An edge the runtime does not create: the producer retired (or is CONSUMED)."""
        self.counts.name(producer_id, origin, wired=False)
        if self.recorder is not None:
            self.recorder.skipped(consumer.seq, producer_id, origin)
        # the dependency still holds for the critical path, if the slot remembers it
        ring, local = self.rings[producer_id >> 32], producer_id & 0xFFFFFFFF
        slot = ring.slot_of(local)
        known, cp, cp_ns, seq = (local, slot.cp, slot.cp_ns, slot.seq) if slot is not None \
            else ring.retired[local & ring.mask]
        if known == local and _longer(cp, seq, consumer.cp, consumer.cp_prev):
            consumer.cp, consumer.cp_ns, consumer.cp_prev = cp, cp_ns, seq

    def _wire(self, slot: TaskSlot, producers: list[TaskSlot], holding: set[int] | None) -> None:
        """fanout_count++ on each producer the edge retains (`holding`; None: all), then
        count the done ones (runtime-model.md); an edge that only orders is released at
        wiring."""
        done = 0
        if holding is None:
            for p in producers:
                p.fanout_count += 1
                if p.state >= COMPLETED:
                    done += 1
                else:
                    p.fanout.append(slot)
            slot.fanin = producers
        else:
            held: list[TaskSlot] = []
            for p in producers:
                if p.seq in holding:
                    p.fanout_count += 1
                    held.append(p)
                if p.state >= COMPLETED:
                    done += 1
                else:
                    p.fanout.append(slot)
            slot.fanin = held
        slot.fanin_count, slot.fanin_refcount = len(producers), done
        # (early_wiring needs every producer flagged)
        if producers and (producers[0].early or not self.fast_submit):
            early_wiring(self.sched, slot, producers, done)
        # the heaviest chain of kernel costs that ends with this task, and its time
        longest, best = slot.cp, None  # slot.cp: from producers whose edge was skipped
        for q in producers:
            if _longer(q.cp, q.seq, longest, slot.cp_prev):
                longest, best, slot.cp_prev = q.cp, q, q.seq
        if best is not None:
            slot.cp_ns = best.cp_ns
        slot.cp = longest + slot.cycles
        slot.cp_ns += slot.duration
        if slot.cp > self.critical_cycles:
            self.critical_cycles, self.critical_end = slot.cp, slot.seq
            self.critical_path = slot.cp_ns
        if done == len(producers):
            self.sched.make_ready(slot, self.orch_time)
            self.sched.dispatch()

    # ---- orchestration-side reads (runtime-model.md) -----------------------------------------
    def get_tensor_data(self, tensor: Tensor, indices: Sequence[int]) -> int | float | bool:
        """Wait for the tensor's creator and every overlapping TensorMap writer, then read
        one element (one TensorMap lookup, in any mode). NoData from the memory model
        means the model holds no contents there (a run without numerics)."""
        if not self._wait_for_tensor(tensor, False, "get_tensor_data"):
            return 0
        self._cost(self.params.read_ns)
        return self.memory.read(tensor, indices)

    def set_tensor_data(self, tensor: Tensor, indices: Sequence[int],
                        value: int | float | bool) -> None:
        """Wait as get_tensor_data does and also for every consumer those producers hold,
        then write one element (runtime-model.md); a buffer the model holds no contents
        of (a run without numerics) is left as it is."""
        if not self._wait_for_tensor(tensor, True, "set_tensor_data"):
            return
        self._cost(self.params.read_ns)
        with contextlib.suppress(NoData):
            self.memory.write(tensor, indices, value)

    def _wait_for_tensor(self, tensor: Tensor, consumers: bool, caller: str) -> bool:
        """The orchestrator stalls until the producers (and, for a write, their holding
        consumers) complete: the scheduler runs on meanwhile. False after a fatal."""
        if self.fatal_code:  # is_fatal(), inline
            return False
        if tensor.addr == 0:
            self.log.append(f"{caller}: tensor has no buffer (addr 0)")
            return False
        events = self.sched.events
        if (events and events[0][0] <= self.orch_time) or self.sched.held:
            self.sched.run_until(self.orch_time)
        producers = self.tmap.lookup(tensor.addr, tensor.region, tensor.version, False,
                                     self.storage(tensor))
        if tensor.owner != INVALID_TASK_ID:
            producers.append(tensor.owner)
        for pid in producers:
            slot = self.live_slot(pid)
            if slot is None:
                continue
            if not self._wait_until(_completed, slot, caller, "producer"):
                return False
            if consumers and not self._wait_until(self._released, slot, caller,
                                                  "consumers of producer"):
                return False
        return True

    def _released(self, producer: TaskSlot) -> bool:
        """Whether every task that holds `producer` (in its fanin) has completed; at v0
        the runtime's test, which takes a released scope reference for a consumer
        (RuntimeRules.exact_consumer_wait)."""
        if not self.rules.exact_consumer_wait:
            return producer.fanout_refcount >= producer.fanout_count - 1
        return not any(producer in s.fanin for ring in self.rings for s in ring.slots
                       if s is not None and s.state < COMPLETED)

    def _wait_until(self, done: Callable[[TaskSlot], bool], slot: TaskSlot, caller: str,
                    what: str) -> bool:
        pid = slot.task_id
        while not done(slot):
            if not self.sched.step():
                self.report_fatal(ErrorCode.TENSOR_WAIT_TIMEOUT, (
                    f"Timeout ({caller}): {what} (ring={task_ring(pid)}, "
                    f"local={task_local(pid)}) not completed"))
                return False
            self.orch_time = max(self.orch_time, self.sched.now)
        return True

    # ---- the executor's frame (runtime-model.md) ------------------------------------------------
    def begin(self) -> None:
        """What the executor does before the orchestration entry: open the outer AUTO scope
        (and the fixed cost from the orchestrator's start to its first submit)."""
        self._cost(self.params.orch_entry_ns)
        self.scope_begin(ScopeMode.AUTO)

    def finish(self) -> None:
        """Close the outer scope, mark orchestration done and run every task to the end."""
        while self.scope_starts and not self.is_fatal():
            self.scope_end()
        self.manual_begin_depth = NO_MANUAL
        if not self.is_fatal():
            while self.sched.step():
                pass

    @property
    def makespan(self) -> float:
        return max(self.sched.last_end, self.orch_time)


def _completed(slot: TaskSlot) -> bool:
    return slot.state >= COMPLETED


def _longer(cp: float, seq: int, best: float, best_seq: int) -> bool:
    """Whether a producer's chain (ending at task `seq`) beats the best so far: longer,
    or as long and submitted earlier (pto-graph breaks ties the same way). A chain of
    length 0 (an alloc task) never starts a path."""
    return cp > best or (cp == best and cp > 0 and seq < best_seq)
