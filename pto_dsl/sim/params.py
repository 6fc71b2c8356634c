"""Every number of the simulator's machine and timing model, with where it comes from.

The machine shape and the runtime's limits are facts from the reference (cited per field).
The costs are estimates: the reference gives no timings, so each one states the
assumption it rests on. Change them here (or per run with the `dataclasses.replace` of a
`Params`); nothing else in `pto_dsl.sim` holds a timing constant.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB, MiB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Params:
    # ---- machine (runtime-model.md) -------------------------------------------------------
    block_dim: int = 24  # clusters used; PLATFORM_MAX_BLOCKDIM = 24 (1 AIC + 2 AIV each)
    aiv_per_cluster: int = 2  # runtime-model.md
    scheduler_threads: int = 3  # 4 AICPU threads: 3 schedulers + 1 orchestrator (runtime-model.md)

    # ---- runtime limits (runtime-model.md) ------------------------------------------------
    task_window: int = 16384  # PTO2_TASK_WINDOW_SIZE per ring; env PTO2_RING_TASK_WINDOW
    heap_size: int = 256 * MiB  # PTO2_HEAP_SIZE per ring; env PTO2_RING_HEAP
    output_align: int = 1024  # PTO2_PACKED_OUTPUT_ALIGN (runtime-model.md)
    max_scope_depth: int = 64  # PTO2_MAX_SCOPE_DEPTH (runtime-model.md)
    rings: int = 4  # PTO2_MAX_RING_DEPTH; ring = min(depth, 3) (runtime-model.md)

    # ---- kernel time (estimates) ----------------------------------------------------------
    # A kernel's `cost` expression is in core clock cycles. Estimate: 1.8 GHz, the AI Core
    # clock commonly quoted for Ascend 910-class chips (a2a3); not from the reference.
    core_ghz: float = 1.8
    # Cycles charged to a kernel that declares no `cost`: an estimate of a small tile's
    # launch plus a few vector instructions (about 2 us).
    default_cost_cycles: float = 3600.0
    # Fixed launch cost per task on the core (reading the payload, setting up the tile
    # pipeline): an estimate of 1 us.
    launch_ns: float = 1000.0

    # ---- scheduler threads (estimates) ---------------------------------------------------
    # Time a scheduler thread spends to hand one ready task to a core (pop the ready queue,
    # build the payload, write the core's register); estimate 0.3 us.
    dispatch_ns: float = 300.0
    # Time a scheduler thread spends on one completion (walk the fanout list, release the
    # fanin producers); estimate 0.2 us plus 0.05 us per fanout edge.
    complete_ns: float = 200.0
    complete_edge_ns: float = 50.0

    # ---- orchestrator thread (estimates) -------------------------------------------------
    # The submit path of runtime-model.md: a fixed part (slot and heap allocation, descriptor
    # and payload copy, wiring), a part per TensorMap lookup and per insert (hash, bucket
    # walk, overlap test), and a part per fanin edge (fanout lock, list append).
    submit_ns: float = 800.0
    lookup_ns: float = 120.0
    insert_ns: float = 100.0
    dep_ns: float = 60.0
    alloc_ns: float = 500.0  # alloc_tensors: a submit without wiring (runtime-model.md)
    scope_ns: float = 50.0  # scope begin or end (push/pop, end releases each task's ref)
    scope_task_ns: float = 10.0  # per task released at scope end
    read_ns: float = 300.0  # get_tensor_data once the producers are done (runtime-model.md)

    def __post_init__(self) -> None:
        w = self.task_window
        if w < 4 or w & (w - 1):
            raise ValueError(f"the task window must be a power of 2, at least 4 (got {w})")
        if self.heap_size < 1024 or self.heap_size & (self.heap_size - 1):
            raise ValueError(f"the ring heap must be a power of 2, at least 1024 "
                             f"(got {self.heap_size})")
        if not 1 <= self.block_dim <= 24:
            raise ValueError(f"block_dim must be between 1 and 24 (got {self.block_dim})")
        if self.scheduler_threads < 1:
            raise ValueError("at least one scheduler thread is needed")


DEFAULT_PARAMS = Params()
