"""Instantiation of submissions: one task per run, with the runtime's fanin rules.

Follows the V0 submit pipeline (reference §2.1): explicit deps first (both modes); then,
only outside manual scopes (§2.3), per non-OUTPUT argument a creator edge (Step A) and,
for INPUT/INOUT without manual_dep, TensorMap lookups (Step B, INOUT removes COVERED
entries); then INOUT/OUTPUT_EXISTING without manual_dep are inserted (Step 4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pto_dsl import ir
from pto_dsl.graph import Access, Origin
from pto_dsl.instantiate import add_fanin, task_for
from pto_dsl.regions import Region

if TYPE_CHECKING:
    from pto_dsl.instantiate import Eval, Frame, Instantiator, Run

INPUT, INOUT = ir.Tag.INPUT, ir.Tag.INOUT
OUTPUT, OUTPUT_EXISTING = ir.Tag.OUTPUT, ir.Tag.OUTPUT_EXISTING


def _deps(inst: Instantiator, deps: tuple[ir.Dep, ...]) -> Eval:
    plan = [(d.var.slot, inst.expr(d.guard) if d.guard is not None else None) for d in deps]

    def explicit(f: Frame) -> list[int]:
        out: list[int] = []
        for slot, guard in plan:
            if guard is None or guard(f):
                task = f[slot]
                if task is not None:  # a dep on `none` is skipped (invalid task id)
                    out.append(task.id)
        return out
    return explicit


def compile_submit(inst: Instantiator, s: ir.Submit) -> Run:
    site, graph, tmap = s.site, inst.graph, inst.tmap
    explicit_of = _deps(inst, s.deps)
    plan = [_arg_plan(inst, a) for a in s.args]
    target = s.target.slot if s.target is not None else None
    kernel = site.kernel
    assert kernel is not None

    def submit(f: Frame) -> None:
        explicit = explicit_of(f)
        tid = len(graph)
        accesses: list[Access] = []
        scalars: list[Any] = []
        outputs: dict[str, Access] = {}
        dims: dict[str, tuple[int, str]] = {}
        for kind, value, param, spec in plan:
            if kind == "s":
                scalars.append(value(f))
                continue
            if kind == "t":
                tv = value(f)
                acc = Access(tv.buffer, Region(tv.layout, tv.offsets, tv.shape), param.tag,
                             param.param.name, tv.manual_dep)
                shape = tv.shape
            else:
                shape = tuple(d(f) for d in value)
                if any(d <= 0 for d in shape):
                    inst.fail("E170", f"output '{param.param.name}' has shape {list(shape)}; "
                              "every dimension must be positive", param.span)
                buf = inst.new_buffer(f"{kernel.name}#{tid}.{param.param.name}", param.dtype,
                                      shape, tid)
                acc = Access(buf, Region(shape, (0,) * len(shape), shape), OUTPUT,
                             param.param.name, False)
                outputs[param.param.name] = acc
            if spec:
                _bind_dims(inst, kernel, param, spec, shape, dims)
            accesses.append(acc)
        fanin: dict[int, list[Origin]] = {}
        for p in explicit:
            add_fanin(fanin, p, Origin.EXPLICIT)
        if inst.manual_depth is None:
            _auto_fanin(tmap, accesses, tid, fanin)
        task = task_for(inst, site, tuple(accesses), tuple(scalars), outputs, s.span)
        task.explicit_deps = tuple(explicit)
        graph.add_task(task, fanin)
        if target is not None:
            f[target] = task
    return submit


def _auto_fanin(tmap: Any, accesses: list[Access], tid: int,
                fanin: dict[int, list[Origin]]) -> None:
    for acc in accesses:
        tag = acc.tag
        if tag is OUTPUT:
            continue
        owner = acc.buffer.owner
        if owner is not None:
            add_fanin(fanin, owner, Origin.CREATOR)
        if not acc.manual_dep and (tag is INPUT or tag is INOUT):
            for p in tmap.lookup(acc.buffer.id, acc.region, tag is INOUT):
                add_fanin(fanin, p, Origin.TENSORMAP)
    for acc in accesses:
        if not acc.manual_dep and (acc.tag is INOUT or acc.tag is OUTPUT_EXISTING):
            tmap.insert(acc.buffer.id, acc.region, tid)


def _arg_plan(inst: Instantiator, a: ir.Arg) -> tuple[str, Any, Any, tuple[str | int, ...]]:
    if isinstance(a, ir.ScalarArg):
        return ("s", inst.expr(a.value), a, ())
    spec = a.param.dims or ()
    if isinstance(a, ir.TensorArg):
        return ("t", inst.expr(a.tensor), a, spec)
    return ("n", [inst.expr(d) for d in a.dims], a, spec)


def _bind_dims(inst: Instantiator, kernel: ir.Kernel, arg: Any, spec: tuple[str | int, ...],
               shape: tuple[int, ...], dims: dict[str, tuple[int, str]]) -> None:
    name = arg.param.name
    for sym, size in zip(spec, shape):
        if isinstance(sym, int):
            if size != sym:
                inst.fail("E175", f"'{name}' of '{kernel.name}' needs size {sym} here, got "
                          f"{size}", arg.span)
        elif sym != "_":
            seen = dims.get(sym)
            if seen is None:
                dims[sym] = (size, name)
            elif seen[0] != size:
                inst.fail("E175", f"dimension {sym} of '{kernel.name}' is {seen[0]} in "
                          f"'{seen[1]}' but {size} in '{name}'", arg.span,
                          help=(f"the kernel's signature uses {sym} for both",))


def compile_alloc(inst: Instantiator, s: ir.AllocStmt) -> Run:
    site, graph = s.site, inst.graph
    items = [(i.name, i.dtype, [inst.expr(d) for d in i.dims], i.span) for i in s.items]
    target = s.target.slot if s.target is not None else None

    def alloc(f: Frame) -> None:
        tid = len(graph)
        outputs: dict[str, Access] = {}
        for name, dtype, dim_evals, span in items:
            shape = tuple(d(f) for d in dim_evals)
            if any(d <= 0 for d in shape):
                inst.fail("E170", f"'{name}' has shape {list(shape)}; every dimension must be "
                          "positive", span)
            buf = inst.new_buffer(f"alloc#{tid}.{name}", dtype, shape, tid)
            outputs[name] = Access(buf, Region(shape, (0,) * len(shape), shape), OUTPUT, name,
                                   False)
        task = task_for(inst, site, tuple(outputs.values()), (), outputs, s.span)
        graph.add_task(task, {})
        if target is not None:
            f[target] = task
    return alloc
