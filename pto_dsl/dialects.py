"""Target dialects of the runtime API and their per-task limits (reference §1.13, §2.7)."""

from __future__ import annotations

from dataclasses import dataclass

from pto_dsl.types import DTYPES


@dataclass(frozen=True)
class Dialect:
    name: str
    max_tensors: int  # tensor args per task (MAX_TENSOR_ARGS)
    max_scalars: int  # scalar args per task (MAX_SCALAR_ARGS)
    max_deps: int | None  # explicit deps per task; None: no limit
    entry_max_tensors: int
    entry_max_scalars: int
    description: str
    dtypes: frozenset[str]  # tensor dtypes its DataType enum has (reference §1.4)


_V0_DTYPES = frozenset(DTYPES) - {"bool"}  # BOOL was appended to DataType after v0

V0 = Dialect("v0", 16, 32, 16, 64, 128,
             "the manual-scope v0 API: Arg, add_dep, pto2_rt_* (commit 98870952c)", _V0_DTYPES)
CURRENT = Dialect("current", 32, 16, None, 256, 128,
                  "the current API: CoreTaskArgs, set_dependencies, rt_* (HEAD)",
                  frozenset(DTYPES))

DIALECTS = {d.name: d for d in (V0, CURRENT)}
DEFAULT_DIALECT = CURRENT


@dataclass(frozen=True)
class RuntimeConfig:
    """Settings of the runtime a program will run under (reference §2.7)."""

    task_window: int = 16384  # PTO2_TASK_WINDOW_SIZE; env PTO2_RING_TASK_WINDOW

    def __post_init__(self) -> None:
        w = self.task_window
        if w < 4 or w & (w - 1):
            raise ValueError(f"the task window must be a power of 2, at least 4 (got {w})")


DEFAULT_RUNTIME = RuntimeConfig()
