"""Every number of the simulator's machine and timing model, with where it comes from.

The machine shape and the runtime's limits are facts of the runtime (cited per field). The
costs are calibrated, per target, on the hardware figures the runtime repository publishes
(hw-native-sys/simpler); each figure used is quoted below with its file and commit, and
bench/calibrate.py refits the fitted ones from the published runs. Change them here
(or per run with the `dataclasses.replace` of a `Params`); nothing else in `pto_dsl.sim`
holds a timing constant. docs/simulator.md tabulates predicted against published times.

Sources (paths in hw-native-sys/simpler):
  [DLP] src/a2a3/runtime/tensormap_and_ringbuffer/docs/device_log_profiling.md @ 6ebaf7715:
        orchestrator profile of a 16704-task run: submit total 14601.58 us (0.874 us/task),
        of which lookup+dep 7290.3, tensormap_ins 1890.38, the other phases 5420.9 us;
        scope_end 364.08 us. Scheduler thread 0 of a 1044-task run: 352 tasks, dispatch
        1973.06 us, complete 1485.02 us.
  [MSD] docs/manual-scope-v0-design.md @ 338ea44ce (the manual-scope design page, deleted
        later): "Fresh TensorMap Profiling" (profiling build, paged attention CaseSmall1 and
        CaseSmall2, AUTO and MANUAL: lookup+dep, tensormap_ins, profiled submit, lookups,
        inserts) and the "Results" benchmark (orchestration time, AUTO vs MANUAL).
  [MSR] docs/manual-scope-v0-design.md @ c5e6a45cd and @ 24a762b12: the rebased 100-round
        benchmarks, orchestration time of AUTO and MANUAL on four paged-attention cases.
  [SOM] docs/dfx/sched-overhead-model.md @ 6ebaf7715: a core picks up a pre-dispatched task
        in about 0.8 us ("aicore switch").
  [MMIO] docs/hardware/mmio-performance.md @ 6ebaf7715: AICPU -> AICore write seen after
        about 140 ns; AICore -> AICPU completion through COND about 600 ns on average.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pto_dsl import machine
from pto_dsl.costs import DEFAULT_COST_CYCLES

KiB, MiB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Params:
    # ---- machine (runtime-model.md) -------------------------------------------------------
    block_dim: int = machine.CLUSTERS  # clusters used (1 AIC + 2 AIV each)
    aiv_per_cluster: int = machine.AIV_PER_CLUSTER  # runtime-model.md
    scheduler_threads: int = 3  # 4 AICPU threads: 3 schedulers + 1 orchestrator (runtime-model.md)

    # ---- runtime limits (runtime-model.md) ------------------------------------------------
    task_window: int = 16384  # PTO2_TASK_WINDOW_SIZE per ring; env PTO2_RING_TASK_WINDOW
    heap_size: int = 256 * MiB  # PTO2_HEAP_SIZE per ring; env PTO2_RING_HEAP
    output_align: int = 1024  # PTO2_PACKED_OUTPUT_ALIGN (runtime-model.md)
    max_scope_depth: int = 64  # PTO2_MAX_SCOPE_DEPTH (runtime-model.md)
    rings: int = 4  # PTO2_MAX_RING_DEPTH; ring = min(depth, 3) (runtime-model.md)

    # ---- kernel time ----------------------------------------------------------------------
    # A kernel's `cost` expression is in core clock cycles. Estimate: 1.8 GHz, the AI Core
    # clock commonly quoted for Ascend 910-class chips (a2a3); no published figure.
    core_ghz: float = 1.8
    # Cycles charged to a kernel that declares no `cost` (pto_dsl.costs, shared with
    # pto-graph's critical path): an estimate of a small tile's work (about 2 us).
    default_cost_cycles: float = DEFAULT_COST_CYCLES
    # A core's pickup of a dispatched task before its kernel runs: [SOM] ~0.8 us.
    launch_ns: float = 800.0
    # A block staged early (gated on its core) starts when the doorbell write reaches the
    # core: [MMIO] ~140 ns after the AICPU writes it.
    doorbell_ns: float = 140.0

    # ---- scheduler threads ----------------------------------------------------------------
    # Thread time to hand one ready task to a core: the ready-queue pop, payload build,
    # cache flush and the register write ([MMIO]: ~140 ns until the core sees it). [DLP]'s
    # dispatch phase, 1973.06 us / 352 tasks = 5.6 us per task, also counts the polling of
    # idle cores, and charging it per dispatch makes every published elapsed time 1.5-4x
    # too long; 1.2 us is the value, of 0.14-5.6 us tried, that best matches the elapsed
    # times of the fitted benchmark [MSR] c5e6a45cd (bench/calibrate.py prints them).
    dispatch_ns: float = 1200.0
    # Thread time per completion: [MMIO] ~600 ns average for the core's COND write to be
    # seen, plus an estimated 50 ns per fanout edge walked ([DLP]'s complete phase, 4.2 us
    # per task, again includes polling).
    complete_ns: float = 600.0
    complete_edge_ns: float = 50.0

    # ---- orchestrator thread ------------------------------------------------------------
    # The field defaults are the v0 target's costs (V0_PARAMS below says how each was
    # obtained); CURRENT_PARAMS changes what differs.
    # Fixed cost from the orchestrator's start to its first submit (fitted on [MSR]).
    orch_entry_ns: float = 43998.5
    # Once per run, when the first manual scope opens (fitted on [MSR]: the MANUAL vs AUTO
    # gap of the small cases does not grow with their explicit deps, so it is not per dep;
    # [MSD] blames explicit-dep construction and validation, which a per-dep cost would be,
    # but the published times do not scale with the deps).
    manual_first_ns: float = 11881.4
    # The submit path (runtime-model.md): slot and heap allocation, descriptor and payload
    # copy, wiring ([MSD]/[DLP] phases other than lookup+dep and tensormap_ins), a part per
    # TensorMap lookup and per insert, and a part per fanin edge.
    submit_ns: float = 277.0
    lookup_ns: float = 48.0
    insert_ns: float = 41.0
    dep_ns: float = 0.0
    alloc_ns: float = 277.0  # alloc_tensors: a submit's slot and heap path, no arguments
    scope_ns: float = 50.0  # scope begin or end (push/pop): estimate, no published figure
    scope_task_ns: float = 22.0  # per task released at scope end: [DLP] 364.08 / 16704
    read_ns: float = 234.9  # get_tensor_data once its producers are done (fitted on [MSR])

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


# v0 (98870952c): fitted on the runs of its own era. submit_ns, lookup_ns and insert_ns
# are the least-squares slopes of [MSD]'s profiling table over its four rows (profiled
# submit less lookup+dep and tensormap_ins per task: 0.277 us; lookup+dep per lookup:
# 0.048 us; tensormap_ins per insert: 0.041 us; both include building the fanin edges, so
# dep_ns is 0). orch_entry_ns, manual_first_ns and read_ns are fitted by bench/calibrate.py
# on the [MSR] c5e6a45cd benchmark; its 24a762b12 rerun and [MSD]'s older benchmark are
# held out (tests/test_calibration.py checks the fit and the held-out signs).
V0_PARAMS = Params()

# current (6ebaf7715): no AUTO-vs-MANUAL run of this runtime is published. Its submit path
# other than TensorMap work is [DLP]'s 5420.9 us / 16704 tasks = 0.325 us per task; a
# TensorMap lookup costs only when it reaches a used bucket (the others return at the
# bucket's epoch check), charged as a v0 lookup; the rest is v0's.
CURRENT_PARAMS = dataclasses.replace(V0_PARAMS, submit_ns=325.0)

TARGET_PARAMS = {"v0": V0_PARAMS, "current": CURRENT_PARAMS}  # by Dialect.name
DEFAULT_PARAMS = CURRENT_PARAMS
