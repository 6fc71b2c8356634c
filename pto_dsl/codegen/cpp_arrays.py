"""C++ of task-id arrays and fatal reports (part of the C++ backend's lowering).

An array is a caller-owned `PTO2TaskId NAME[N]` filled with invalid ids, so that an element
no task was assigned stops the runtime exactly as the program's E185 says; a dep on all or a
run of it is `set_dependencies(NAME + first, count)` (current) or `add_dep` per element (v0).
"""

from __future__ import annotations

from pto_dsl import ir

from . import cpp_expr as cx
from .cpp_model import Code, DepView


def declare(ctx: cx.Ctx, s: ir.TaskArrayDecl) -> Code:
    name = ctx.namer.var(s.var)
    return Code(ctx.origin(s.span), (f"PTO2TaskId {name}[{s.length}];",
                                     f"std::fill_n({name}, {s.length}, PTO2TaskId::invalid());"))


def fatal(ctx: cx.Ctx, s: ir.FatalStmt) -> Code:
    message = s.message.replace("\\", "\\\\")
    return Code(ctx.origin(s.span), (
        f'{ctx.dialect.report_fatal}(PTO2_ERROR_{s.code}, "%s", "{message}");', "return;"))


def element(ctx: cx.Ctx, var: ir.Var, index: ir.Expr) -> str:
    return f"{ctx.namer.var(var)}[{cx.scalar(ctx, index)}]"


def dep(ctx: cx.Ctx, d: ir.Dep, condition: str | None) -> DepView:
    """A dep item on a task-id array: one element is a task id like any other; all of them
    or a slice is a run (first, stop) of the array."""
    name = ctx.namer.var(d.var)
    ty = d.var.ty
    assert isinstance(ty, ir.TaskArrayTy)
    sel = d.elements
    if sel is not None and not isinstance(sel, ir.SliceIR):
        return DepView(f"{name}[{cx.scalar(ctx, sel)}]", condition, d.inferred)
    first, stop = "0", str(ty.length)
    if isinstance(sel, ir.SliceIR):
        first = cx.scalar(ctx, sel.lo) if sel.lo is not None else "0"
        stop = cx.scalar(ctx, sel.hi) if sel.hi is not None else str(ty.length)
    count = str(int(stop) - int(first)) if first.isdigit() and stop.isdigit() \
        else (f"static_cast<uint32_t>({stop})" if first == "0"
              else f"static_cast<uint32_t>(({stop}) - ({first}))")
    start = name if first == "0" else f"{name} + ({first})"
    return DepView(name, condition, d.inferred, run=(start, count, first, stop,
                                                     ctx.namer.fresh(f"{name}_i")),
                   capacity=d.most_ids)
