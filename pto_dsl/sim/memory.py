"""Numerics of the model: device memory as numpy arrays and the kernel executor.

Every buffer is a flat numpy array keyed by its base address: entry tensors are given
by the host, runtime outputs are created when their task is submitted (filled with NaN,
like uninitialised heap) and dropped when their task's slot is reclaimed. bf16 data is
held as uint16 bit patterns (pto_dsl.bf16), given to kernels as float32 tiles and rounded
(to nearest even) when stored. A task reads its arguments when it starts and its writes
land when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from pto_dsl import bf16
from pto_dsl.sim.api import INVALID_TASK_ID, MixedKernels, Tensor, TensorArgType
from pto_dsl.sim.ring import TaskSlot

NP_DTYPES: dict[str, Any] = {
    "f32": np.float32, "f16": np.float16, "bf16": np.float32, "i8": np.int8,
    "i16": np.int16, "i32": np.int32, "i64": np.int64, "u8": np.uint8, "u16": np.uint16,
    "u32": np.uint32, "u64": np.uint64, "bool": np.bool_}

Scalar = int | float | bool
# (arrays, scalars, SPMD block count): runs every block of a task
KernelRun = Callable[[list[np.ndarray], Sequence[Scalar], int], None]
KernelCycles = Callable[[Sequence[Tensor], Sequence[Scalar]], float]


class KernelImpl(NamedTuple):
    """What the runtime knows of a registered kernel: its name, how to run it (None:
    timing only) and its cost in core cycles for given arguments."""

    name: str
    run: KernelRun | None
    cycles: KernelCycles


class KernelError(Exception):
    """A kernel implementation raised; carries the task it ran for."""

    def __init__(self, slot: TaskSlot, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.slot, self.cause = slot, cause


class NoData(Exception):
    """An access to memory the model holds no contents for."""


class FreedBuffer(Exception):
    """A task accessed a runtime-allocated buffer after the runtime reclaimed it."""

    def __init__(self, slot: TaskSlot, tensor: Tensor) -> None:
        super().__init__(f"buffer at {tensor.addr:#x} was reclaimed")
        self.slot, self.tensor = slot, tensor


class Memory:
    def __init__(self) -> None:
        self.arrays: dict[int, np.ndarray] = {}
        self.dtypes: dict[int, str] = {}
        self.owners: dict[int, int] = {}  # runtime output address -> the task that made it
        self._loaders: dict[int, Callable[[], np.ndarray]] = {}

    def register(self, addr: int, dtype: str, loader: Callable[[], np.ndarray]) -> None:
        """Host memory for an entry tensor, made on first use (bf16 data is rounded)."""
        self._loaders[addr] = loader
        self.dtypes[addr] = dtype

    def allocate(self, addr: int, dtype: str, numel: int,
                 owner: int = INVALID_TASK_ID, initial: Scalar | None = None) -> None:
        """A runtime output: NaN (or 0) standing for uninitialised memory, or `initial`."""
        if dtype == "bf16":
            bits = bf16.NAN_BITS if initial is None else bf16.to_bits(np.float32(initial))
            self.arrays[addr] = np.full(numel, bits, dtype=np.uint16)
        else:
            kind = np.dtype(NP_DTYPES[dtype]).kind
            fill = initial if initial is not None else np.nan if kind == "f" else 0
            self.arrays[addr] = np.full(numel, fill, dtype=NP_DTYPES[dtype])
        self.dtypes[addr] = dtype
        self.owners[addr] = owner

    def release(self, addr: int) -> None:
        self.arrays.pop(addr, None)
        self.owners.pop(addr, None)

    def alive(self, t: Tensor) -> bool:
        """Whether a runtime output still holds the buffer its task made (not reclaimed,
        not reused by a later task); entry tensors always are."""
        return t.owner == INVALID_TASK_ID or self.owners.get(t.addr) == t.owner

    def flat(self, addr: int) -> np.ndarray:
        arr = self.arrays.get(addr)
        if arr is None:
            loader = self._loaders.get(addr)
            if loader is None:
                raise NoData(f"no memory at address {addr:#x}")
            if self.dtypes[addr] == "bf16":  # the loader hands over its data
                made = np.asarray(loader())
                bits = made if made.dtype == np.uint16 else bf16.to_bits(made)
                arr = self.arrays[addr] = bits.reshape(-1)
                return arr
            data = np.asarray(loader(), dtype=NP_DTYPES[self.dtypes[addr]]).reshape(-1)
            arr = self.arrays[addr] = data.copy()
        return arr

    def view(self, t: Tensor) -> np.ndarray:
        if not self.alive(t):
            raise NoData(f"the buffer at {t.addr:#x} was reclaimed")
        r = t.region
        full = self.flat(t.addr).reshape(r.layout)
        return full[tuple(slice(o, o + s) for o, s in zip(r.offsets, r.sizes))]

    def store(self, t: Tensor, data: np.ndarray) -> None:
        target = self.view(t)
        target[...] = bf16.to_bits(data) if t.dtype == "bf16" else data

    def read(self, t: Tensor, indices: Sequence[int]) -> Scalar:
        value = self.flat(t.addr)[_flat_index(t, indices)]
        if t.dtype == "bf16":
            return float(bf16.to_float32(value))
        scalar: Scalar = value.item()
        return scalar


    def write(self, t: Tensor, indices: Sequence[int], value: Scalar) -> None:
        """One element, as set_tensor_data writes it (bf16 rounded to its bits)."""
        arr = self.flat(t.addr)
        arr[_flat_index(t, indices)] = bf16.to_bits(np.float32(value)) if t.dtype == "bf16" \
            else value


def _flat_index(t: Tensor, indices: Sequence[int]) -> int:
    r = t.region
    flat_index = 0
    for dim, size in enumerate(r.layout):
        flat_index = flat_index * size + r.offsets[dim] + indices[dim]
    return flat_index


WRITES = (TensorArgType.OUTPUT, TensorArgType.OUTPUT_EXISTING, TensorArgType.INOUT)


class Numerics:
    """The executor of runtime-model.md's run step: calls each task's kernel on copies of
    its arguments at start, stores what it writes at its end."""

    def __init__(self, memory: Memory, kernels: dict[MixedKernels, KernelImpl]) -> None:
        self.memory, self.kernels = memory, kernels

    def start(self, slot: TaskSlot) -> None:
        tensors, tags, scalars = slot.args
        impl = self.kernels[slot.kernels]
        assert impl.run is not None
        arrays = []
        for t in tensors:
            try:
                view = self.memory.view(t)
                arrays.append(bf16.to_float32(view) if t.dtype == "bf16" else np.array(view))
            except NoData:
                raise FreedBuffer(slot, t) from None
        try:
            impl.run(arrays, scalars, slot.blocks)
        except Exception as exc:  # the user's kernel: reported with its task
            raise KernelError(slot, exc) from exc
        slot.pending = [(t, a) for t, tag, a in zip(tensors, tags, arrays) if tag in WRITES]

    def finish(self, slot: TaskSlot) -> None:
        tensors = slot.args[0]
        for t in tensors:  # a buffer must live until the task that uses it has finished
            if not self.memory.alive(t):
                raise FreedBuffer(slot, t)
        for t, data in slot.pending or ():
            try:
                self.memory.store(t, data)
            except NoData:
                raise FreedBuffer(slot, t) from None
        slot.pending = None
