"""pto-run on a C++ orchestration: what a recording run did, replayed on the runtime model.

The recorder's run of the C++ decided everything the orchestration decides (its loops, its
branches, its reads of tensor contents); `TraceLowering` makes the same calls, in the same
order, on the simulator's `Runtime`: scope begins and ends, every submit (kernel, dummy or
alloc) with its tensors, scalars, explicit deps and launch, and every orchestration read
and write (which wait for the data's producers, as the runtime does; a write writes the
value the orchestration wrote). The simulator then gives what
it gives for a .pto program: the edges it builds, the schedule and its time, and, for
kernels with an `impl`, the numerics checked against the signature's golden.

The recording run sees the case's contents for entry tensors and zeros for data a task
writes; the control flow it took is the one simulated, whatever the simulated kernels
compute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, warning
from pto_dsl.graph import Access, Buffer, Task, TaskGraph
from pto_dsl.instantiate import Frame
from pto_dsl.record.fields import typed_value
from pto_dsl.regions import Region
from pto_dsl.sim.api import (
    INVALID_TASK_ID,
    Arg,
    ScopeMode,
    Tensor,
    TensorArgType,
    TensorCreateInfo,
)
from pto_dsl.sim.lowering import ENTRY_BASE, Lowering, TaskTag, kernel_ids
from pto_dsl.sim.memory import NP_DTYPES, NoData
from pto_dsl.values import TensorVal

_TAGS = {ir.Tag.INPUT: TensorArgType.INPUT, ir.Tag.INOUT: TensorArgType.INOUT,
         ir.Tag.OUTPUT_EXISTING: TensorArgType.OUTPUT_EXISTING,
         ir.Tag.OUTPUT: TensorArgType.OUTPUT}


class TraceLowering(Lowering):
    """A Lowering whose entry body is a recorded run's events instead of a program's
    statements (the entry's tensors are laid out as for a .pto program)."""

    def __init__(self, events: list[tuple[Any, ...]], graph: TaskGraph,
                 diverged: list[Diagnostic], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events, self.recorded, self.diverged = events, graph, diverged

    def run_frame(self, frame: Frame) -> None:
        graph, rt = self.recorded, self.rt
        self.placed: dict[int, Tensor] = {}  # recorded buffer id -> its simulated base
        self.task_ids: dict[int, int] = {}  # recorded task id -> the runtime's task id
        self.next_addr = max((t.addr + t.nbytes for t in self.entry.values()),
                             default=ENTRY_BASE) + 4096
        rt.begin()
        for event in self.events:
            kind, where = event[0], self.program.span
            if kind == "T":
                task = graph.task(event[1])
                where = task.span
                self.submit_recorded(task)
            elif kind == "S":
                rt.scope_begin(ScopeMode.MANUAL if event[1] else ScopeMode.AUTO)
            elif kind == "E":
                rt.scope_end()
            else:
                self.element_recorded(event[1], event[2], event[3], kind == "W", event[4],
                                      event[5])
            if rt.fatal_code:
                self.check_fatal(where)
        rt.finish()
        self.check_fatal(self.program.span)

    # ---- submits --------------------------------------------------------------------------
    def submit_recorded(self, task: Task) -> None:
        site = self.program.sites[task.site]
        tag = TaskTag(site, (("task", task.id),))
        arg = Arg(self.limits)
        outputs = [a for a in task.accesses if a.tag is ir.Tag.OUTPUT]
        # an add_no_dep argument is recorded as an input with manual_dep: never tracked
        arg.add_tensors([_TAGS[a.tag] for a in task.accesses],
                        [self.item(a) for a in task.accesses])
        arg.add_scalar(*task.scalars)
        arg.add_dep(*[self.task_ids[p] for p in task.explicit_deps])
        arg.block_num, arg.require_sync_start = task.blocks, task.sync_start
        kernel = site.kernel
        if kernel is None:
            result = self.rt.alloc_tensors(*[TensorCreateInfo(a.region.layout, a.buffer.dtype,
                                                              a.manual_dep) for a in outputs],
                                           tag=tag)
        elif kernel.core == "dummy":
            result = self.rt.submit_dummy_task(arg, tag)
        else:
            result = self.rt.submit_task(kernel_ids(kernel), arg, tag)
        self.count_task(task.span)
        self.task_ids[task.id] = result.task_id
        for access, made in zip(outputs, result.outputs):
            self.placed[access.buffer.id] = made

    def item(self, a: Access) -> Tensor | TensorCreateInfo:
        if a.tag is ir.Tag.OUTPUT:
            return TensorCreateInfo(a.region.layout, a.buffer.dtype, a.manual_dep)
        return self.tensor(a.buffer, a.region, a.manual_dep)

    def tensor(self, buf: Buffer, region: Region, manual_dep: bool) -> Tensor:
        base = self.placed.get(buf.id)
        if base is None:
            base = self.placed[buf.id] = self.memory_of(buf)
        return Tensor(base.addr, buf.dtype, region, base.owner, manual_dep, base.version)

    def memory_of(self, buf: Buffer) -> Tensor:
        """The simulated memory of an entry tensor, or of a buffer the orchestration made
        with make_tensor_external on memory of its own (zeros)."""
        entry = self.entry.get(buf.name)
        if entry is not None and buf.owner is None:
            return entry
        addr = self.next_addr
        layout = buf.shape
        tensor = Tensor(addr, buf.dtype, Region(layout, (0,) * len(layout), layout))
        self.next_addr += (tensor.nbytes + 4095) // 4096 * 4096 + 4096
        self.rt.memory.register(addr, buf.dtype, lambda: _zeros(layout, buf.dtype))
        if buf.owner is not None:  # a task output the run never saw made: keep its creator
            tensor = tensor._replace(owner=self.task_ids.get(buf.owner, INVALID_TASK_ID))
        return tensor

    # ---- orchestration reads ----------------------------------------------------------------
    def element_recorded(self, tv: TensorVal, index: tuple[int, ...], span: Any, write: bool,
                         bits: int, computed: bool) -> None:
        """A read waits for the data's producers as the runtime's does (its value was
        decided by the recording run: if the simulated kernels computed another, the run
        simulated may not be the one the orchestration would make, which `diverged`
        keeps); a write also waits for their consumers, then writes the value the
        orchestration wrote."""
        tensor = self.tensor(tv.buffer, tv.region, tv.manual_dep)
        recorded = typed_value(bits, tv.buffer.dtype)
        if write:
            self.rt.set_tensor_data(tensor, index, recorded)
        else:
            with contextlib.suppress(NoData):  # without numerics: the wait is what matters
                value = self.rt.get_tensor_data(tensor, index)
                if computed and self.rt.numerics and value != recorded and not self.diverged:
                    self.diverged.append(_diverged(span, tv, index, recorded, value))
        self.check_fatal(span)


def _zeros(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return np.zeros(shape, dtype=NP_DTYPES[dtype])


def sim_program(recorded: ir.Program, signature: ir.Program) -> ir.Program:
    """The recorded program as the simulator runs it: the C++ call sites as its sites, the
    signature's entry (with its frame slots) and kernels (a dummy task has no kernel)."""
    kernels = {name: k for name, k in recorded.kernels.items() if k.func_ids}
    return dataclasses.replace(recorded, kernels=kernels, slot_count=signature.slot_count)


def lowering_of(events: list[tuple[Any, ...]], graph: TaskGraph,
                diverged: list[Diagnostic]) -> Callable[..., Lowering]:
    """What `pto_dsl.sim.run.simulate` runs the entry with; the first read whose simulated
    value differs from the recorded one goes to `diverged` (W811)."""
    return functools.partial(TraceLowering, events, graph, diverged)


def _diverged(span: Any, tv: TensorVal, index: tuple[int, ...], recorded: Any,
              value: Any) -> Diagnostic:
    return warning(
        "W811", f"this read of '{tv.buffer.name}' got {recorded!r} in the recording, but "
        f"{value!r} in the simulation: from here on, the run simulated follows the calls the "
        "orchestration made with the recorded value", span,
        notes=(Note(f"element {list(index)} of the view"),),
        help=("the recording runs no kernel; what the orchestration computes from this "
              "value (its writes, its loops, its branches) may differ on the runtime",),
        stage=Stage.SIMULATION)
