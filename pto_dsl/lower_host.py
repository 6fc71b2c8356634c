"""Lowering of orchestration-side data access (part of the lowering stage): element
writes `t[i, ...] = v` (set_tensor_data), the machine's core counts as values, and tensor
variables reassigned another descriptor (`x = t`).

Reads `t[i, ...]` are ordinary expressions (`lower_expr`); this module only types the
constructs that the orchestration itself performs on tensor contents and the machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.diagnostics import Note, error
from pto_dsl.types import FLOAT_TYPES

if TYPE_CHECKING:
    from pto_dsl.lower import Lowerer

# builtin name -> the count it gives (rt_available_cluster_count / rt_available_aiv_count)
CORE_COUNTS = {"available_cluster_count": "cluster", "available_aiv_count": "aiv"}


def element_value_ty(dtype: str) -> ir.ScalarTy:
    """The value type of one element, as a read gives it: `float` for float tensors,
    `int` for integer and bool tensors."""
    return ir.FLOAT if dtype in FLOAT_TYPES else ir.INT


def core_count(lw: Lowerer, e: n.Call) -> ir.Expr:
    if e.args:
        lw.report(error("E104", f"'{e.func.name}' takes no arguments, {len(e.args)} given",
                        e.span))
        return ir.Const(0, ir.ERR, e.span)
    return ir.CoreCount(CORE_COUNTS[e.func.name], ir.INT, e.span)


def not_assignable(lw: Lowerer, s: n.ElementAssign, var: ir.Var) -> ir.Stmt | None:
    """E109: `NAME[i] = v` where NAME is a number or a bool (a task variable is the task-id
    arrays' business: they say how to declare one)."""
    lw.no_deps(s.deps, None, s.launch, s.dispatch)
    for e in (*s.indices, s.value):  # their own mistakes are reported too
        lw.expr(e)
    if var.ty != ir.ERR:
        lw.report(error("E109", f"only an element of a tensor or of a task-id array can be "
                        f"assigned; '{s.name.name}' is {var.ty}", s.name.span,
                        notes=[Note(f"'{s.name.name}' is defined here", var.span)]))
    return None


def element_assign(lw: Lowerer, s: n.ElementAssign) -> ir.Stmt | None:
    """`t[i, ...] = v`: one element of a writable tensor, a value of the element's type."""
    lw.no_deps(s.deps, None, s.launch, s.dispatch)
    var = lw.resolve(s.name)
    indices = tuple(lw.int_expr(i) for i in s.indices)
    value = lw.expr(s.value)
    assert var is not None and isinstance(var.ty, ir.TensorTy)  # the caller's dispatch
    ty = var.ty
    if len(indices) != ty.rank:
        lw.report(error("E107", f"this tensor has rank {ty.rank}, but {len(indices)} "
                        "indices are given", s.span,
                        help=("a write sets one element: give one index per dimension",)))
        return None
    if not ty.writable:
        lw.report(error("E105", f"'{s.name.name}' is read-only: the orchestration cannot "
                        "write its elements", s.name.span,
                        notes=[Note(f"'{s.name.name}' is defined here", var.span)],
                        help=("declare the entry tensor 'inout' (or 'out') to write it",)))
        return None
    if not element_type_ok(lw, ty.dtype, value):
        return None
    return ir.SetElement(ir.Load(var, ty, s.name.span), indices, value, s.span)


def element_type_ok(lw: Lowerer, dtype: str, value: ir.Expr) -> bool:
    """E112 unless `value` can be stored in an element of `dtype`: a number for a float
    tensor, an int for an integer one, an int or bool for a bool one."""
    want = element_value_ty(dtype)
    takes = {want, ir.ERR} | ({ir.INT} if want == ir.FLOAT else set()) \
        | ({ir.BOOL} if dtype == "bool" else set())
    if value.ty in takes:
        return True
    lw.report(error("E112", f"an element of this {dtype} tensor takes {_a(want)}, "
                    f"got {value.ty}", value.span))
    return False


def element_value(lw: Lowerer, dtype: str, e: n.Expr) -> ir.Expr | None:
    """An initial value of a `dtype` buffer's elements, lowered and checked."""
    value = lw.expr(e)
    return value if element_type_ok(lw, dtype, value) else None


def _a(ty: ir.ScalarTy) -> str:
    return {"int": "an int", "float": "a number", "bool": "a bool"}[ty.kind]


def tensor_assign(lw: Lowerer, s: n.Assign, var: ir.Var, submits: bool) -> ir.Stmt | None:
    """`x = TENSOR` for a tensor declared by `let`: x names another tensor of its dtype and
    rank from here on (the C++ assigns the descriptor), even after that tensor's scope."""
    ty = var.ty
    assert isinstance(ty, ir.TensorTy)
    lw.no_deps(s.deps, s.value, s.launch, s.dispatch)
    if submits:
        lw.report(error("E111", f"'{var.name}' holds a tensor, not a task", s.value.span,
                        notes=[Note(f"'{var.name}' is defined here as {ty}", var.span)],
                        help=("declare a task variable with its own 'let'",)))
        return None
    expr = lw.expr(s.value)
    if expr.ty == ir.ERR:
        return None
    got = expr.ty
    if not isinstance(got, ir.TensorTy) or (got.dtype, got.rank) != (ty.dtype, ty.rank):
        lw.report(error("E112", f"'{var.name}' is declared as {ty} and cannot take {got}",
                        expr.span, notes=[Note(f"'{var.name}' is defined here", var.span)]))
        return None
    if ty.writable and not got.writable:
        lw.report(error("E105", f"'{var.name}' is a writable tensor, and this one is "
                        "read-only", expr.span,
                        notes=[Note(f"'{var.name}' is defined here", var.span)],
                        help=("declare the variable from a read-only tensor if it may hold "
                              "one",)))
        return None
    return ir.AssignStmt(var, expr, s.span)
