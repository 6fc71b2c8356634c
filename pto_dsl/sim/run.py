"""One simulated run: program + case + options -> SimResult (outputs, checks, stats and
the schedule). The command line (`cli_run`) and the benchmark call `simulate`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pto_dsl import cases
from pto_dsl.bf16 import Bf16Array, to_float32
from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.instantiate import Limits
from pto_dsl.perf import paused_gc
from pto_dsl.pipeline import Checked
from pto_dsl.sim.api import ArgLimits, Tensor
from pto_dsl.sim.frames import user_frames
from pto_dsl.sim.kernels import build_registry
from pto_dsl.sim.lowering import Lowering, TaskTag
from pto_dsl.sim.memory import FreedBuffer, KernelError
from pto_dsl.sim.params import TARGET_PARAMS, Params
from pto_dsl.sim.record import Recorder
from pto_dsl.sim.ring import TaskSlot
from pto_dsl.sim.runtime import Runtime
from pto_dsl.sim.scheduler import Executor, Span
from pto_dsl.types import DEFAULT_MAX_TASKS

if TYPE_CHECKING:  # goldens and input files are read only by runs that have them
    from pto_dsl.sim.golden import OutputCheck


@dataclass
class SimOptions:
    numerics: bool = True
    params: Params | None = None  # None: the calibrated costs of the program's target
    tensormap_rule: str = "merged"
    seed: int | None = None  # randomise ready order, durations, orchestrator speed
    inputs: dict[str, Any] | None = None  # entry tensors and scalars instead of the case's
    inputs_file: Path | None = None  # the same from a .npz file (checked against the entry)
    golden: str | None = None
    check: bool = True  # compare with the golden, if there is one
    trace: bool = False  # record the orchestrator's submits for a trace
    record_schedule: bool = True  # keep every task's (core, start, end)
    recorder: Recorder | None = None
    progress: Callable[[Runtime], None] | None = None
    traceback: bool = False  # kernel and golden errors show the user's frames
    holds: dict[int, float] | None = None  # tasks (by seq) held back once ready, ns
    stretches: dict[int, float] | None = None  # tasks (by seq) that run this much longer, ns
    watch: Callable[[Executor], Executor] | None = None  # wraps the kernel executor
    max_tasks: int = DEFAULT_MAX_TASKS  # the task limit of instantiation (E176)


@dataclass
class ScheduleRow:
    """One task's run on a core (times in microseconds), for Gantt charts."""

    seq: int
    label: str
    kernel: str
    core: str
    start_us: float
    end_us: float


@dataclass
class SimResult:
    program: str
    case: str
    runtime: Runtime
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    checks: list[OutputCheck] | None = None  # None: no golden

    @property
    def passed(self) -> bool:
        return self.checks is None or all(c.passed for c in self.checks)

    def critical_path(self) -> list[ScheduleRow]:
        """The tasks of the longest chain of kernel times, first to last (needs the
        schedule record)."""
        sched = self.runtime.sched
        schedule = sched.schedule or []
        spans = dict(zip(map(itemgetter(0), schedule), schedule))  # by seq
        spans.update(sched.dummy_spans)  # a chain may pass through dependency-only tasks
        chain: list[Span] = []
        seq = self.runtime.critical_end
        while seq in spans:
            chain.append(spans[seq])
            seq = spans[seq].cp_prev
        return [self._row(s) for s in reversed(chain)]

    def schedule(self) -> list[ScheduleRow]:
        return [self._row(s) for s in self.runtime.sched.schedule or ()]

    def _row(self, span: Span) -> ScheduleRow:
        tag = span.tag
        label = tag.label if isinstance(tag, TaskTag) else str(tag)
        kernel = tag.site.label if isinstance(tag, TaskTag) else "?"
        core = self.runtime.sched.core_names[span.core] if span.core >= 0 else "none"
        return ScheduleRow(span.seq, label, kernel, core,
                           span.start / 1e3, span.end / 1e3)


def simulate(checked: Checked, case_name: str | None, options: SimOptions,
             lowering_class: Callable[..., Lowering] = Lowering) -> SimResult:
    """Raises CompileError for problems in the program, its case, kernels or golden.
    `lowering_class` runs the entry (the C++ front end's replays a recorded run)."""
    program = checked.program
    base_dir = Path(checked.source.name).resolve().parent
    case = cases.find_case(program, case_name)
    values = cases.evaluate(program, case, base_dir)
    given = dict(options.inputs or {})
    if options.inputs_file is not None:
        from pto_dsl.sim.inputs import load_inputs

        given.update(load_inputs(options.inputs_file, program, values))
    values.scalars.update({s.name: given[s.name] for s in program.scalars if s.name in given})
    params = options.params or TARGET_PARAMS[checked.dialect.name]
    registry = build_registry(program, base_dir, options.numerics, params.default_cost_cycles,
                              options.traceback)
    golden = None
    if options.numerics and options.check:
        from pto_dsl.sim.golden import find_golden

        golden = find_golden(options.golden, base_dir, program.name)
    rt = Runtime(params, registry, numerics=options.numerics,
                 tensormap_rule=options.tensormap_rule,
                 rng=random.Random(options.seed) if options.seed is not None else None,
                 recorder=options.recorder, rules=checked.dialect.rules)
    rt.progress = options.progress
    if not options.record_schedule:
        rt.sched.schedule = None
    if options.holds:
        rt.sched.holds = options.holds
    if options.stretches:
        rt.sched.stretches = options.stretches
    if options.watch is not None and rt.sched.executor is not None:
        rt.sched.executor = options.watch(rt.sched.executor)
    if options.trace:
        rt.orch_trace = []
    tensors = {k: v for k, v in given.items() if k in {t.name for t in program.tensors}}
    dialect = checked.dialect
    lowering = lowering_class(program, values, rt, tensors, ArgLimits(
        dialect.max_tensors, dialect.max_scalars, dialect.max_deps), Limits(options.max_tasks))
    result = SimResult(program.name, case.name.name, rt)
    frame = lowering.prepare()
    if options.numerics:
        result.inputs = _inputs(lowering, values)
    try:
        with paused_gc():  # many small acyclic objects; slots are freed by refcount
            lowering.run_frame(frame)
    except KernelError as exc:
        raise _task_error(lowering, exc.slot, "E502", f"kernel '{_kernel(exc.slot)}' failed: "
                          f"{exc}", "the kernel's Python implementation raised" + (
                              "" if options.traceback else "; run with --traceback (or "
                              "PTO_DSL_DEBUG=1) to see where"),
                          user_frames(exc.cause) if options.traceback else []) from None
    except FreedBuffer as exc:
        raise _task_error(lowering, exc.slot, "E507", f"'{_kernel(exc.slot)}' uses a buffer "
                          "that the runtime has already reclaimed", "no task that holds the "
                          "buffer's creator, or an older task of its ring, was still running, "
                          "so its memory was recycled (docs/runtime-model.md, Retention); "
                          "pto-check reports it as W301 with the dep that fixes it") from None
    if options.numerics:
        result.outputs = {t.name: _contents(rt, lowering.entry[t.name]) for t in program.tensors
                          if t.direction != "in"}
        if golden is not None:
            from pto_dsl.sim.golden import compare, run_golden

            where = next((t.span for t in program.tensors if t.direction != "in"), program.span)
            result.checks = compare(result.outputs, run_golden(golden, result.inputs,
                                                               options.traceback, where), where)
    return result


def _inputs(lowering: Lowering, values: cases.CaseValues) -> dict[str, Any]:
    """Everything the entry receives, as the run sees it: a copy of each tensor the run may
    write, the memory itself of the others ('in' tensors are never written); bf16 tensors
    as Bf16Array, converted to float32 where indexed."""
    found: dict[str, Any] = dict(values.symbols)
    found.update(values.scalars)
    for t in lowering.program.tensors:
        tensor = lowering.entry[t.name]
        data = lowering.rt.memory.flat(tensor.addr).reshape(tensor.region.layout)
        if t.direction != "in":
            data = data.copy()
        found[t.name] = Bf16Array(data) if tensor.dtype == "bf16" else data
    return found


def _contents(rt: Runtime, tensor: Tensor) -> np.ndarray:
    data = rt.memory.flat(tensor.addr).reshape(tensor.region.layout)
    return to_float32(data) if tensor.dtype == "bf16" else data


def _kernel(slot: TaskSlot) -> str:
    return slot.tag.site.label if isinstance(slot.tag, TaskTag) else "?"


def _task_error(lowering: Lowering, slot: TaskSlot, code: str, message: str,
                help: str, frames: Sequence[Note] = ()) -> CompileError:
    tag = slot.tag
    span = tag.site.span if isinstance(tag, TaskTag) else None
    where = f"task {tag.label}" if isinstance(tag, TaskTag) else f"task {slot.seq}"
    return CompileError([error(code, message, span, stage=Stage.SIMULATION, help=(help,),
                               notes=[Note(f"{where} of case '{lowering.case.name}'"),
                                      *frames])])
