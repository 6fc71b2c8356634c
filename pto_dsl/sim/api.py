"""The runtime's orchestration-side value types: task ids, tensors, create-infos, the Arg
builder and submit results (runtime-model.md), shaped like the C++ API.

Names follow the V0 API with the `pto2_` prefix dropped. Nothing here knows the .pto
language; `pto_dsl.sim.lowering` calls this API as generated C++ calls the real one.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from pto_dsl.regions import Region
from pto_dsl.types import dtype_size

TENSORMAP_RULES = ("merged", "boundary")  # runtime-model.md: merged, pre-merge

INVALID_TASK_ID = (1 << 64) - 1  # PTO2TaskId::invalid(): raw all ones (runtime-model.md)
INVALID_KERNEL_ID = -1  # an unused slot of MixedKernels (runtime-model.md)


class ArgLimits(NamedTuple):
    """Per-task limits of the Arg builder: V0 16 tensors / 32 scalars / 16 deps (runtime-model.md);
    HEAD 32 / 16 / no dep limit (runtime-model.md)."""

    tensors: int
    scalars: int
    deps: int | None


V0_LIMITS = ArgLimits(16, 32, 16)


def make_task_id(ring: int, local: int) -> int:
    """PTO2TaskId::make: raw = (ring << 32) | local."""
    return (ring << 32) | local


def task_ring(task_id: int) -> int:
    return task_id >> 32


def task_local(task_id: int) -> int:
    return task_id & 0xFFFFFFFF


def task_id_str(task_id: int) -> str:
    if task_id == INVALID_TASK_ID:
        return "invalid"
    return f"(ring={task_ring(task_id)}, local={task_local(task_id)})"


class ErrorCode(enum.IntEnum):
    """Fatal codes of the orchestrator (runtime-model.md)."""

    NONE = 0
    SCOPE_DEADLOCK = 1
    HEAP_RING_DEADLOCK = 2
    FLOW_CONTROL_DEADLOCK = 3
    DEP_POOL_OVERFLOW = 4
    INVALID_ARGS = 5
    DEPENDENCY_OVERFLOW = 6
    REQUIRE_SYNC_START_INVALID = 7
    TENSOR_WAIT_TIMEOUT = 8
    EXPLICIT_ORCH_FATAL = 9


class ScopeMode(enum.IntEnum):
    AUTO = 0
    MANUAL = 1


class TensorArgType(enum.Enum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"  # runtime-allocated from a TensorCreateInfo
    OUTPUT_EXISTING = "OUTPUT_EXISTING"
    INOUT = "INOUT"
    NO_DEP = "NO_DEP"


INPUT, INOUT = TensorArgType.INPUT, TensorArgType.INOUT


class Tensor(NamedTuple):
    """A tensor descriptor (runtime-model.md): a buffer base address, the box of it seen
    (raw shape, offsets and shapes in elements), the creator task and manual_dep."""

    addr: int
    dtype: str
    region: Region
    owner: int = INVALID_TASK_ID
    manual_dep: bool = False
    version: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.region.sizes

    @property
    def nbytes(self) -> int:
        """Size of the whole buffer in bytes (buffer.size)."""
        total = dtype_size(self.dtype)
        for d in self.region.layout:
            total *= d
        return total

    def view(self, shapes: tuple[int, ...], offsets: tuple[int, ...],
             manual_dep: bool = False) -> Tensor:
        """Offsets are added to the parent's; manual_dep is not inherited (runtime-model.md)."""
        r = self.region
        return self._replace(region=Region(r.layout, tuple(
            a + b for a, b in zip(r.offsets, offsets)), tuple(shapes)), manual_dep=manual_dep)


def make_tensor_external(addr: int, shapes: tuple[int, ...], dtype: str,
                         manual_dep: bool = False, version: int = 0) -> Tensor:
    """A contiguous, zero-offset tensor on memory the host owns; no creator (runtime-model.md)."""
    return Tensor(addr, dtype, Region(shapes, (0,) * len(shapes), shapes), INVALID_TASK_ID,
                  manual_dep, version)


class TensorCreateInfo(NamedTuple):
    """A runtime-allocated output (runtime-model.md)."""

    shapes: tuple[int, ...]
    dtype: str
    manual_dep: bool = False
    initial_value: int | float | bool | None = None  # set_initial_value: every element

    @property
    def nbytes(self) -> int:
        total = dtype_size(self.dtype)
        for d in self.shapes:
            total *= d
        return total


class MixedKernels(NamedTuple):
    aic: int = INVALID_KERNEL_ID
    aiv0: int = INVALID_KERNEL_ID
    aiv1: int = INVALID_KERNEL_ID

    @property
    def mask(self) -> tuple[bool, bool, bool]:
        return (self.aic != INVALID_KERNEL_ID, self.aiv0 != INVALID_KERNEL_ID,
                self.aiv1 != INVALID_KERNEL_ID)

    def normalized(self) -> MixedKernels:
        """A lone AIV1 kernel moves to the AIV0 slot (runtime-model.md)."""
        if self.mask == (False, False, True):
            return MixedKernels(INVALID_KERNEL_ID, self.aiv1, INVALID_KERNEL_ID)
        return self

    @property
    def shape(self) -> str | None:
        """The resource shape (runtime-model.md): aic, aiv, mix, or None with no kernel."""
        active = sum(self.mask)
        if active == 0:
            return None
        if active > 1:
            return "mix"
        return "aic" if self.mask[0] else "aiv"


class Arg:
    """The task-argument builder (runtime-model.md): tensors with tags, then scalars, and
    explicit deps; the first misuse is latched and fails the submit (runtime-model.md)."""

    __slots__ = ("allow_early_resolve", "block_num", "deps", "error", "limits", "predicate",
                 "require_sync_start", "scalars", "tags", "tensors")

    def __init__(self, limits: ArgLimits | None = None) -> None:
        self.limits = limits or V0_LIMITS
        self.block_num = 1  # launch_spec: SPMD blocks (runtime-model.md)
        self.require_sync_start = False
        self.allow_early_resolve = False  # set_allow_early_resolve (runtime-model.md)
        # set_predicate (runtime-model.md): the element's tensor and indices, op, target
        self.predicate: tuple[Tensor, tuple[int, ...], str, int] | None = None
        self.tensors: list[Tensor | TensorCreateInfo] = []
        self.tags: list[TensorArgType] = []
        self.scalars: list[int | float | bool] = []
        self.deps: list[int] = []
        self.error: str | None = None

    @classmethod
    def of(cls, limits: ArgLimits, tags: list[TensorArgType],
           tensors: list[Tensor | TensorCreateInfo], scalars: list[int | float | bool],
           deps: list[int]) -> Arg:
        """`Arg(limits)`, then `add_tensors`, `add_scalar` and `add_dep` in that order: at
        once when every count is within its limit (the lists are taken, not copied), else
        call by call, latching the first misuse's message."""
        if len(tensors) <= limits.tensors and len(scalars) <= limits.scalars \
                and (limits.deps is None or len(deps) <= limits.deps):
            arg = cls.__new__(cls)  # __init__'s fields, with the lists given
            arg.limits, arg.block_num, arg.require_sync_start = limits, 1, False
            arg.allow_early_resolve, arg.predicate, arg.error = False, None, None
            arg.tensors, arg.tags, arg.scalars, arg.deps = tensors, list(tags), scalars, deps
        else:
            arg = cls(limits)
            arg.add_tensors(tags, tensors)
            arg.add_scalar(*scalars)
            arg.add_dep(*deps)
        return arg

    def _latch(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def _add(self, tag: TensorArgType, items: tuple[Tensor | TensorCreateInfo, ...]) -> None:
        if self.scalars:
            self._latch("add_input/add_output/add_inout called after add_scalar: all tensors "
                        "must be added before any scalars")
        elif len(self.tensors) + len(items) > self.limits.tensors:
            self._latch("Too many tensor args (exceeds MAX_TENSOR_ARGS="
                        f"{self.limits.tensors})")
        else:
            self.tensors.extend(items)
            self.tags.extend([tag] * len(items))

    def add_input(self, *tensors: Tensor) -> None:
        self._add(INPUT, tensors)

    def add_output(self, *items: Tensor | TensorCreateInfo) -> None:
        """A TensorCreateInfo is a new output; a Tensor an existing, write-only one."""
        for item in items:
            tag = (TensorArgType.OUTPUT if isinstance(item, TensorCreateInfo)
                   else TensorArgType.OUTPUT_EXISTING)
            self._add(tag, (item,))

    def add_inout(self, *tensors: Tensor) -> None:
        self._add(INOUT, tensors)

    def add_no_dep(self, *tensors: Tensor) -> None:
        self._add(TensorArgType.NO_DEP, tensors)

    def add_tensors(self, tags: list[TensorArgType],
                    tensors: list[Tensor | TensorCreateInfo]) -> None:
        """Several tensors with their tags at once (the model's bulk form of add_*)."""
        if self.scalars or len(self.tensors) + len(tensors) > self.limits.tensors:
            for tag, t in zip(tags, tensors):
                self._add(tag, (t,))  # latches the builder's message
            return
        self.tensors.extend(tensors)
        self.tags.extend(tags)

    def add_scalar(self, *values: int | float | bool) -> None:
        if len(self.scalars) + len(values) > self.limits.scalars:
            self._latch("Too many scalar args (exceeds MAX_SCALAR_ARGS="
                        f"{self.limits.scalars})")
            return
        self.scalars.extend(values)

    def add_dep(self, *task_ids: int) -> None:
        # the capacity check is all-or-nothing for one call (runtime-model.md)
        if self.limits.deps is not None and len(self.deps) + len(task_ids) > self.limits.deps:
            self._latch("Too many explicit deps (exceeds explicit dependency "
                        f"capacity={self.limits.deps})")
            return
        self.deps.extend(task_ids)

    def reset(self) -> None:
        self.__init__(self.limits)  # type: ignore[misc]


class TaskOutputTensors(NamedTuple):
    """A submit result: the task id and the runtime-created outputs, in add_output order."""

    task_id: int
    outputs: tuple[Tensor, ...]

    def get_ref(self, i: int) -> Tensor:
        if not 0 <= i < len(self.outputs):
            raise AssertionError(f"TaskOutputTensors::get_ref({i}) out of range "
                                 f"(size {len(self.outputs)})")
        return self.outputs[i]

    def size(self) -> int:
        return len(self.outputs)

    def empty(self) -> bool:
        return not self.outputs


EMPTY_RESULT = TaskOutputTensors(INVALID_TASK_ID, ())
