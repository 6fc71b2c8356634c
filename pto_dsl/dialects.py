"""Targets: a runtime version's API dialect, per-task limits and dependency rules.

`Dialect` names one runtime version. Its `rules` are the one table of behaviour that differs
between versions; the task graph, the checks and the simulator consult it alike, so no pass
tests a dialect's name. docs/runtime-model.md states each rule and where the runtime has it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pto_dsl.types import DTYPES

PACKED_OUTPUT_ALIGN = 1024  # bytes per runtime-allocated output in a task's packed buffer


class OverlapRule(enum.Enum):
    """How the TensorMap decides that a lookup hits an entry of the same buffer."""

    PER_DIM = "per-dim"  # v0: per-dimension interval test in the entry's coordinates
    FLAT_THEN_BOX = "flat-then-box"  # current: flat element range, then exact box if same layout


class LookupCount(enum.Enum):
    """What the runtime's profiling build counts as one TensorMap lookup."""

    EVERY_CALL = "every-call"  # v0: each call of the lookup routine, hit or miss
    # current: only calls that pass the bucket's epoch check, i.e. whose hash bucket an
    # insert of this run has used (even if its entries were removed since)
    NONEMPTY_BUCKET = "nonempty-bucket"


@dataclass(frozen=True)
class RuntimeRules:
    """The dependency and memory rules of one runtime version."""

    overlap: OverlapRule
    # Edge origins (graph.Origin values) that hold the producer's buffer until the consumer
    # finishes; the others only order.
    retaining_origins: frozenset[str]
    # A dep or TensorMap hit on a producer that is CONSUMED but not yet reclaimed: dropped
    # (current), or linked anyway, desynchronising its reference counts (v0).
    drops_consumed_producers: bool
    # The heap rebases to offset 0 whenever no live packed buffer remains (current).
    heap_rebase: bool
    lookup_count: LookupCount
    # An orchestration write waits for every consumer its producers hold (current); v0's
    # wait counts the producer's scope reference among them once its scope has ended, so
    # it may return while one consumer still runs: only an open scope's producers count.
    exact_consumer_wait: bool = True


@dataclass(frozen=True)
class Dialect:
    name: str
    max_tensors: int  # tensor args per task (MAX_TENSOR_ARGS)
    max_scalars: int  # scalar args per task (MAX_SCALAR_ARGS)
    max_deps: int | None  # explicit deps per task; None: no limit
    entry_max_tensors: int
    entry_max_scalars: int
    description: str
    dtypes: frozenset[str]  # tensor dtypes its DataType enum has (runtime-model.md)
    rules: RuntimeRules


_V0_DTYPES = frozenset(DTYPES) - {"bool"}  # BOOL was appended to DataType after v0

V0_RULES = RuntimeRules(
    overlap=OverlapRule.PER_DIM,
    retaining_origins=frozenset({"explicit", "creator", "tensormap"}),
    drops_consumed_producers=False,
    heap_rebase=False,
    lookup_count=LookupCount.EVERY_CALL,
    exact_consumer_wait=False,
)
CURRENT_RULES = RuntimeRules(
    overlap=OverlapRule.FLAT_THEN_BOX,
    retaining_origins=frozenset({"explicit", "creator"}),
    drops_consumed_producers=True,
    heap_rebase=True,
    lookup_count=LookupCount.NONEMPTY_BUCKET,
)

V0 = Dialect("v0", 16, 32, 16, 64, 128,
             "the manual-scope v0 API: Arg, add_dep, pto2_rt_* (commit 98870952c)", _V0_DTYPES,
             V0_RULES)
CURRENT = Dialect("current", 32, 16, None, 256, 128,
                  "the current API: CoreTaskArgs, set_dependencies, rt_* (HEAD)",
                  frozenset(DTYPES), CURRENT_RULES)

DIALECTS = {d.name: d for d in (V0, CURRENT)}
DEFAULT_DIALECT = CURRENT


@dataclass(frozen=True)
class RuntimeConfig:
    """Settings of the runtime a program will run under (runtime-model.md)."""

    task_window: int = 16384  # PTO2_TASK_WINDOW_SIZE; env PTO2_RING_TASK_WINDOW

    def __post_init__(self) -> None:
        w = self.task_window
        if w < 4 or w & (w - 1):
            raise ValueError(f"the task window must be a power of 2, at least 4 (got {w})")


DEFAULT_RUNTIME = RuntimeConfig()
