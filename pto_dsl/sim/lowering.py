"""Lowering for the simulator: the structured IR run as calls on the runtime model's API.

The interpreter of `pto_dsl.instantiate` (expressions, loops, ifs, lets) is reused; what
differs is what a submission, an `alloc`, a `scope` and an orchestration read do: here
they build an `Arg` and call the model as generated C++ calls the runtime (runtime-model.md),
and orchestration reads read the simulated memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

import numpy as np

from pto_dsl import ir
from pto_dsl.cases import CaseValues
from pto_dsl.diagnostics import CompileError, Note, Stage, error
from pto_dsl.graph import Buffer
from pto_dsl.instantiate import DEFAULT_LIMITS, Frame, Instantiator, Limits, Run
from pto_dsl.instantiate_arrays import compile_deps, element_store
from pto_dsl.instantiate_host import check_index
from pto_dsl.instantiate_submit import dims_checker
from pto_dsl.regions import Region
from pto_dsl.sim.api import (
    INVALID_KERNEL_ID,
    INVALID_TASK_ID,
    V0_LIMITS,
    Arg,
    ArgLimits,
    ErrorCode,
    MixedKernels,
    ScopeMode,
    Tensor,
    TensorArgType,
    TensorCreateInfo,
)
from pto_dsl.sim.lowering_gen import TAGS, LoweringGen, Sized, sized
from pto_dsl.sim.memory import NoData
from pto_dsl.sim.runtime import Fatal, Runtime
from pto_dsl.source import Span
from pto_dsl.values import TensorVal

# The per-task value tuples are made with tuple.__new__ and every field in order: a
# NamedTuple's own __new__ is a Python call (for its defaults), the tuple the same. The
# fields are checked here, so a change to one of these types fails at import, not later.
_new = tuple.__new__
assert Tensor._fields == ("addr", "dtype", "region", "owner", "manual_dep", "version")
assert TensorCreateInfo._fields == ("shapes", "dtype", "manual_dep", "initial_value")

ENTRY_BASE = 0x10_0000  # entry tensors are laid out from here, 4 KiB aligned
_SLOT = {"aic": 0, "aiv": 1, "aiv0": 1, "aiv1": 2}


class TaskTag(NamedTuple):
    """What a task is in the program: its submission site and loop iteration. Made with
    every field (`submit`): give a new field no default."""

    site: ir.Site
    instance: tuple[tuple[str, int], ...]

    @property
    def label(self) -> str:
        inst = ", ".join(f"{k}={v}" for k, v in self.instance)
        return self.site.label + (f" ({inst})" if inst else "")


class SimTask(NamedTuple):
    """A task variable's value: the runtime's task id and outputs by name. Made with every
    field (`submit`): give a new field no default. The outputs stay the runtime's Tensors
    (an output passed to a task is passed as it is); `output` is one as a value."""

    task_id: int
    outputs: dict[str, Tensor]

    def output(self, name: str) -> TensorVal:
        return _as_value(self.outputs[name], name)


class SimulationError(CompileError):
    pass


def kernel_ids(kernel: ir.Kernel) -> MixedKernels:
    ids = [INVALID_KERNEL_ID] * 3
    for slot, func_id in kernel.func_ids:
        ids[_SLOT[slot]] = func_id
    return MixedKernels(*ids)


def to_runtime(tv: TensorVal) -> Tensor:
    buf = tv.buffer
    return Tensor(buf.id, buf.dtype, tv.region, buf.owner if buf.owner is not None
                  else INVALID_TASK_ID, tv.manual_dep)


class Lowering(Instantiator):
    """Runs a program on one case against a `Runtime`; `inputs` replaces the case's
    generated contents of entry tensors (by name) when given."""

    writer = LoweringGen

    def __init__(self, program: ir.Program, case: CaseValues, runtime: Runtime,
                 inputs: dict[str, np.ndarray] | None = None,
                 limits: ArgLimits = V0_LIMITS, bounds: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(program, case, runtime.rules, limits=bounds)
        self.rt = runtime
        self.limits = limits  # the dialect's Arg limits
        self.inputs = inputs or {}
        self.entry: dict[str, Tensor] = {}
        self.entry_written: set[int] = set()  # entry buffers some task writes

    def sim_fail(self, code: str, message: str, span: Span | None,
                 help: tuple[str, ...] = ()) -> NoReturn:
        inst = ", ".join(f"{k}={v}" for k, v in self.instance)
        where = f"in the iteration {inst} of case '{self.case.name}'" if inst \
            else f"in case '{self.case.name}'"
        raise SimulationError([error(code, message, span, notes=[Note(where)], help=help,
                                     stage=Stage.SIMULATION)])

    def check_fatal(self, span: Span | None) -> None:
        if not self.rt.fatal_code:  # (rt.check() would pass)
            return
        try:
            self.rt.check()
        except Fatal as exc:
            message = exc.message.removeprefix("FATAL: ")
            self.sim_fail("E501", f"the runtime stops: FATAL(code={int(exc.code)} "
                          f"{exc.code.name}): {message}", span,
                          help=(_FATAL_HELP.get(exc.code, "see docs/runtime-model.md"),
                                "the runtime latches this error and ignores every later "
                                "call (docs/runtime-model.md)"))

    # ---- run ------------------------------------------------------------------------------
    def contents(self, name: str) -> np.ndarray:
        if name in self.inputs:
            return self.inputs[name]
        return self.case.take(name)  # memory keeps the only copy

    def run_program(self) -> None:
        self.run_frame(self.prepare())

    def prepare(self) -> Frame:
        """Lay out the entry tensors in memory and bind the entry's values."""
        frame: Frame = [None] * self.program.slot_count
        addr = ENTRY_BASE
        for t in self.program.tensors:
            shape = self.case.shape(t.name)
            tensor = Tensor(addr, t.dtype, Region(shape, (0,) * len(shape), shape))
            self.entry[t.name] = tensor
            self.rt.memory.register(addr, t.dtype, self._loader(t.name))
            frame[t.var.slot] = TensorVal(Buffer(addr, t.name, t.dtype, shape, None),
                                          tensor.region, False)
            addr += (tensor.nbytes + 4095) // 4096 * 4096 + 4096
        for s in self.program.scalars:
            frame[s.var.slot] = self.case.scalars[s.name]
        for name, var in self.program.symbols.items():
            frame[var.slot] = self.case.symbols[name]
        self.check_shapes()
        return frame

    def run_frame(self, frame: Frame) -> None:
        """Run the entry inside the executor's outer scope, then every task."""
        body = self.body(self.program.body)
        self.rt.begin()
        body(frame)
        self.rt.finish()
        self.check_fatal(self.program.span)

    def _loader(self, name: str) -> Callable[[], np.ndarray]:
        return lambda: self.contents(name)

    # ---- statements -----------------------------------------------------------------------
    def stmt(self, s: ir.Stmt) -> Run:
        if isinstance(s, ir.Submit):
            return self.submit(s)
        if isinstance(s, ir.AllocStmt):
            return self.alloc(s)
        if isinstance(s, ir.SetElement):
            return self.set_element(s)
        if isinstance(s, ir.FatalStmt):
            return self.fatal(s)
        return super().stmt(s)

    def fatal(self, s: ir.FatalStmt) -> Run:
        """`rt_report_fatal` and return: the runtime latches the code and stops."""
        code, message, span, rt = ErrorCode(s.number), s.message, s.span, self.rt

        def fatal(f: Frame) -> None:
            rt.report_fatal(code, message)
            self.check_fatal(span)
        return fatal

    def scope(self, s: ir.ScopeStmt) -> Run:
        body, mode, span, rt = self.block(s.body), s.scope.manual, s.span, self.rt
        scope_mode = ScopeMode.MANUAL if mode else ScopeMode.AUTO

        def scope(f: Frame) -> None:
            rt.scope_begin(scope_mode)
            self.check_fatal(span)
            body(f)
            rt.scope_end()
            self.check_fatal(span)
        return scope

    def deps(self, s: ir.Submit) -> Callable[[Frame], list[int]]:
        with_arrays = compile_deps(self, s.deps, lambda task: task.task_id,
                                   lambda d, i: INVALID_TASK_ID)
        if with_arrays is not None:
            return lambda f: [tid for tid, _ in with_arrays(f)]
        plan = [(d.var.slot, self.expr(d.guard) if d.guard is not None else None)
                for d in s.deps]

        def explicit(f: Frame) -> list[int]:
            out: list[int] = []
            for slot, guard in plan:
                if guard is None or guard(f):
                    task = f[slot]
                    if task is not None:  # a dep on `none` is not added (invalid id)
                        out.append(task.task_id)
            return out
        return explicit

    def submit(self, s: ir.Submit) -> Run:
        kernel = s.site.kernel
        assert kernel is not None
        kernels, rt, site, span, limits = kernel_ids(kernel), self.rt, s.site, s.span, \
            self.limits
        deps = self.deps(s)
        tensor_args = [a for a in s.args if not isinstance(a, ir.ScalarArg)]
        plan = [self._tensor_plan(a) for a in tensor_args]
        scalars = [self.expr(a.value) for a in s.args if isinstance(a, ir.ScalarArg)]
        check_dims = dims_checker(self, kernel, tensor_args)
        new_names = [a.param.name for a in tensor_args if isinstance(a, ir.NewArg)]
        target = s.target.slot if s.target is not None and s.index is None else None
        store_at = element_store(self, s, mark=False) if s.index is not None else None
        blocks = self.expr(s.launch.blocks) if s.launch is not None else None
        dummy = kernel.core == "dummy"
        sync = s.launch is not None and s.launch.sync
        early = s.early is not None
        predicate = self._predicate(s.predicate)

        tags = [TAGS[a.tag] if isinstance(a, ir.TensorArg) else TensorArgType.OUTPUT
                for a in tensor_args]
        new_at = [i for i, a in enumerate(tensor_args) if isinstance(a, ir.NewArg)]

        sized_of = _sized_of()

        def submit(f: Frame) -> None:
            store = store_at(f) if store_at is not None else None
            items = [make(f) for make in plan]
            if check_dims is not None:
                if new_at:  # a new output's sizes as an argument's region's sizes
                    sized = list(items)
                    for i in new_at:
                        sized[i] = sized_of(items[i].shapes)
                    check_dims(sized)
                else:
                    check_dims(items)
            arg = Arg.of(limits, tags, items, [e(f) for e in scalars] if scalars else [],
                         deps(f))
            if blocks is not None:
                arg.block_num, arg.require_sync_start = blocks(f), sync
            arg.allow_early_resolve = early
            if predicate is not None:
                arg.predicate = predicate(f)
            tag = _new(TaskTag, (site, self.instance))
            result = rt.submit_dummy_task(arg, tag) if dummy \
                else rt.submit_task(kernels, arg, tag)
            self.count_task(span)
            if rt.fatal_code:
                self.check_fatal(span)
            value = _new(SimTask, (result.task_id, dict(zip(new_names, result.outputs))))
            if target is not None:
                f[target] = value
            elif store is not None:
                store(value)
        return submit

    def _predicate(self, pred: ir.Predicate | None) -> Callable[[Frame], Any] | None:
        """set_predicate's operand (the tensor and its indices), op and target; the graph's
        instantiation has checked the indices and the target on this case."""
        if pred is None:
            return None
        tensor, target = self.expr(pred.tensor), self.expr(pred.target)
        indices, op = [self.expr(i) for i in pred.indices], pred.op

        def evaluate(f: Frame) -> tuple[Tensor, tuple[int, ...], str, int]:
            tv = tensor(f)
            owner = tv.buffer.owner
            t = Tensor(tv.buffer.id, tv.buffer.dtype, tv.region,
                       INVALID_TASK_ID if owner is None else owner, tv.manual_dep)
            return t, tuple(i(f) for i in indices), op, target(f)
        return evaluate

    def _tensor_plan(self, a: ir.TensorArg | ir.NewArg) -> Callable[[Frame], Any]:
        if isinstance(a, ir.NewArg):
            dims, dtype, name, span = [self.expr(d) for d in a.dims], a.dtype, a.param.name, a.span

            def new(f: Frame) -> TensorCreateInfo:
                shape = tuple([d(f) for d in dims])
                if min(shape) <= 0:
                    self.fail("E170", f"output '{name}' has shape {list(shape)}; every "
                              "dimension must be positive", span)
                return _new(TensorCreateInfo, (shape, dtype, False, None))
            return new
        value, writes = self.expr(a.tensor), a.tag is not ir.Tag.INPUT
        written = self.entry_written
        last: list[Any] = [None, None]  # the last descriptor and its Tensor (held: no id reuse)

        def existing(f: Frame) -> Tensor:
            tv = value(f)
            if tv is last[0]:  # the same value as the last call (a loop-invariant view)
                return last[1]  # type: ignore[no-any-return]
            buf = tv.buffer
            owner = buf.owner
            if owner is None:
                owner = INVALID_TASK_ID
                if writes:
                    written.add(buf.id)
            tensor = last[1] = _new(Tensor, (buf.id, buf.dtype, tv.region, owner,
                                             tv.manual_dep, 0))
            last[0] = tv
            return tensor
        return existing

    def alloc(self, s: ir.AllocStmt) -> Run:
        items = [(i.name, i.dtype, [self.expr(d) for d in i.dims], i.span) for i in s.items]
        inits = [self.expr(i.init) if i.init is not None else None for i in s.items]
        target, rt, site, span = (s.target.slot if s.target is not None else None), self.rt, \
            s.site, s.span

        def alloc(f: Frame) -> None:
            infos = []
            for (name, dtype, dims, item_span), init in zip(items, inits):
                shape = tuple(d(f) for d in dims)
                if min(shape) <= 0:
                    self.fail("E170", f"'{name}' has shape {list(shape)}; every dimension "
                              "must be positive", item_span)
                infos.append(TensorCreateInfo(shape, dtype,
                                              initial_value=init(f) if init else None))
            result = rt.alloc_tensors(*infos, tag=TaskTag(site, self.instance))
            self.count_task(span)
            self.check_fatal(span)
            if target is not None:
                f[target] = SimTask(result.task_id, {
                    name: out for (name, *_), out in zip(items, result.outputs)})
        return alloc

    # ---- orchestration reads -----------------------------------------------------------------
    def host_read(self, tv: Any, index: tuple[int, ...], span: Span) -> Any:
        tensor = to_runtime(tv)
        if not self.rt.numerics and (tensor.owner != INVALID_TASK_ID
                                     or tensor.addr in self.entry_written):
            self._no_data(tv, span)
        try:
            value = self.rt.get_tensor_data(tensor, index)
        except NoData:
            self._no_data(tv, span)
        self.check_fatal(span)
        return value

    def set_element(self, s: ir.SetElement) -> Run:
        """`set_tensor_data`: the orchestrator waits (producers and their consumers), then
        writes simulated memory, which later reads and kernels see."""
        tensor, value, span = self.expr(s.tensor), self.expr(s.value), s.span
        indices = [self.expr(i) for i in s.indices]

        def write(f: Frame) -> None:
            tv = tensor(f)
            index = tuple(i(f) for i in indices)
            check_index(self, tv, index, span)
            self.rt.set_tensor_data(to_runtime(tv), index, value(f))
            self.check_fatal(span)
        return write

    def core_count(self, kind: str) -> int:
        """The width of the simulated machine (--block-dim clusters)."""
        params = self.rt.params
        return params.block_dim if kind == "cluster" else params.block_dim * params.aiv_per_cluster

    def _no_data(self, tv: Any, span: Span) -> NoReturn:
        self.sim_fail("E506", f"this read of '{tv.buffer.name}' needs data that a task "
                      "computes, which a run without numerics does not have", span,
                      help=("run without --no-numerics",))


def _sized_of() -> Callable[[tuple[int, ...]], Sized]:
    """A new output's shape as the dims check reads an argument, one per distinct shape of
    a submission site."""
    made: dict[tuple[int, ...], Sized] = {}

    def sized_of(shape: tuple[int, ...]) -> Sized:
        found = made.get(shape)
        if found is None:
            found = made[shape] = sized(shape)
        return found
    return sized_of


_FATAL_HELP = {
    ErrorCode.SCOPE_DEADLOCK: "split the scope, or raise the task window (--task-window)",
    ErrorCode.HEAP_RING_DEADLOCK: "end scopes sooner, or raise the task window "
                                  "(--task-window) or the heap (--heap-mib)",
    ErrorCode.INVALID_ARGS: "the orchestration calls the runtime in a way it rejects "
                            "(docs/runtime-model.md)",
    ErrorCode.REQUIRE_SYNC_START_INVALID: "a 'sync' launch may have at most as many blocks "
                                          "as the machine has clusters (AIV cores for a "
                                          "vector kernel)",
}


def _as_value(t: Tensor, name: str) -> TensorVal:
    layout = t.region.layout
    return TensorVal(Buffer(t.addr, name, t.dtype, layout, t.owner), t.region, t.manual_dep)
