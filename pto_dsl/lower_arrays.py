"""Lowering of task-id arrays and fatal reports (part of the lowering stage).

`let ids = tasks[N]` declares N task ids, `ids[i] = K(...)` submits into one element,
`ids[i] = t` copies the task a task variable holds into one, and `dep ids`, `dep ids[i]`,
`dep ids[a:b]` name all, one or a slice of them; `fatal CODE "message"` is the runtime's
fatal report. Bounds known here are checked here (E172); the others, and unassigned
elements, when a case is instantiated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl import ir, lower_submit
from pto_dsl import nodes as n
from pto_dsl.diagnostics import Note, error

if TYPE_CHECKING:
    from pto_dsl.lower import Lowerer

MAX_LENGTH = 65536  # task ids per array: far above any runtime program's (500)


def declare(lw: Lowerer, s: n.Let, value: n.TaskArray) -> ir.Stmt | None:
    lw.no_deps(s.deps, None, s.launch)
    length = lw.int_expr(value.length)
    ok = isinstance(length, ir.Const) and isinstance(length.value, int) \
        and not isinstance(length.value, bool) and 1 <= length.value <= MAX_LENGTH
    if not ok and length.ty != ir.ERR:
        lw.report(error("E136", "the length of a task-id array must be a number from 1 to "
                        f"{MAX_LENGTH}", value.length.span,
                        help=("the generated C++ declares the array on the stack with this "
                              "length; use a bound of the case's sizes and a slice "
                              "('dep ids[:n]') for the part in use",)))
    size = length.value if ok and isinstance(length, ir.Const) \
        and isinstance(length.value, int) else 1
    var = lw.new_var(s, s.name.name, ir.TaskArrayTy(size), s.name.span)
    lw.declare(s.name, var)
    return ir.TaskArrayDecl(var, size, s.span) if ok else None


def element_assign(lw: Lowerer, s: n.ElementAssign) -> ir.Stmt | None:
    var = lw.resolve(s.name)
    if var is None or var.ty == ir.ERR:
        return None
    if not isinstance(var.ty, ir.TaskArrayTy):
        lw.report(error("E109", f"'{s.name.name}' is not a task-id array", s.name.span,
                        notes=[Note(f"'{var.name}' is {_kind(var)}", var.span)],
                        help=("declare one with 'let NAME = tasks[LENGTH]'",)))
        return None
    if len(s.indices) != 1:
        lw.report(error("E107", f"a task-id array has one dimension, but {len(s.indices)} "
                        "indices are given", s.span))
        return None
    index = lw.int_expr(s.index)
    static_bounds(lw, var.ty, index, None)
    value = s.value
    if not (isinstance(value, (n.Call, n.Dummy)) and lower_submit.is_submission(lw, value)):
        return copy(lw, s, var, index)
    sub = lower_submit.submission(lw, value, s.deps, None, s.span, s.launch, s.dispatch)
    assert isinstance(sub, ir.Submit)
    return ir.Submit(sub.site, sub.args, sub.deps, var, sub.span, sub.launch, index,
                     sub.early, sub.predicate)


def copy(lw: Lowerer, s: n.ElementAssign, var: ir.Var, index: ir.Expr) -> ir.Stmt | None:
    """`ids[i] = t`: the element takes the task a task variable holds (or `none`), as the
    C++ copies a `PTO2TaskId` into an array."""
    lw.no_deps(s.deps, s.value, s.launch, s.dispatch)
    value = lw.expr(s.value)
    if value.ty == ir.ERR:
        return None
    if not isinstance(value.ty, ir.TaskTy):
        lw.report(error("E136", f"an element of a task-id array holds a task, not {value.ty}",
                        s.value.span,
                        help=("assign a kernel call or a dummy task (submitted here), a task "
                              "variable or 'none'",)))
        return None
    return ir.CopyTaskId(var, index, value, s.span)


def dep(lw: Lowerer, item: n.DepItem, var: ir.Var, guard: ir.Expr | None) -> ir.Dep | None:
    """A dep item naming a task-id array: all elements, one, or a slice."""
    ty = var.ty
    assert isinstance(ty, ir.TaskArrayTy)
    elements: ir.Expr | ir.SliceIR | None = None
    sub = item.elements
    if isinstance(sub, n.Slice):
        elements = ir.SliceIR(lw.int_expr(sub.lo) if sub.lo is not None else None,
                              lw.int_expr(sub.hi) if sub.hi is not None else None, sub.span)
        static_bounds(lw, ty, None, elements)
    elif sub is not None:
        elements = lw.int_expr(sub)
        static_bounds(lw, ty, elements, None)
    return ir.Dep(var, guard, item.span, elements=elements)


def not_an_array(lw: Lowerer, item: n.DepItem, var: ir.Var) -> None:
    assert item.elements is not None
    lw.report(error("E130", f"dep '{item.name.name}[...]' needs a task-id array",
                    item.span, notes=[Note(f"'{var.name}' is {_kind(var)}", var.span)],
                    help=("only an array declared with 'tasks[N]' has elements; name a task "
                          "variable without brackets",)))


def _kind(var: ir.Var) -> str:
    return "a task variable" if var.task_var else str(var.ty)


def static_bounds(lw: Lowerer, ty: ir.TaskArrayTy, index: ir.Expr | None,
                  elements: ir.SliceIR | None) -> None:
    """E172 for an index or slice bound that is a number outside the array."""
    length = ty.length
    if index is not None:
        value = _number(index)
        if value is not None and not 0 <= value < length:
            lw.report(error("E172", f"index {value} is out of bounds for {ty} "
                            f"(0 .. {length - 1})", index.span))
        return
    assert elements is not None
    lo, hi = _number(elements.lo), _number(elements.hi)
    for bound, value in ((elements.lo, lo), (elements.hi, hi)):
        if bound is not None and value is not None and not 0 <= value <= length:
            lw.report(error("E172", f"slice bound {value} is out of bounds for {ty} "
                            f"(0 .. {length})", bound.span))
            return
    if lo is not None and hi is not None and lo > hi:
        lw.report(error("E172", f"the slice {lo}:{hi} is empty backwards", elements.span,
                        help=("a slice runs from its first element up to, not including, "
                              "its second bound",)))


def _number(e: ir.Expr | None) -> int | None:
    if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, ir.UnaryOp) and e.op == "-":
        inner = _number(e.operand)
        return -inner if inner is not None else None
    return None


def fatal(s: n.Fatal) -> ir.Stmt | None:
    number = n.FATAL_CODES.get(s.code)
    if number is None:  # reported by the builder (E010)
        return None
    return ir.FatalStmt(s.code, number, s.message, s.span)
