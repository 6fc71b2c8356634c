"""Lowering of expressions (part of the lowering stage): AST expressions -> typed IR.

Split from `lower` to keep modules small; it resolves names through the `Lowerer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.diagnostics import Note, error
from pto_dsl.lower_host import CORE_COUNTS, core_count
from pto_dsl.source import Span
from pto_dsl.types import FLOAT_TYPES, INT64_MAX, INT64_MIN

if TYPE_CHECKING:
    from pto_dsl.lower import Lowerer

BUILTINS = ("min", "max", "cdiv", "reshape", "manual_dep", "available_cluster_count",
            "available_aiv_count")
ERR = ir.ERR
# In a task variable's sites: it was assigned a call whose lowering failed, so what it
# holds is unknown and its uses report nothing more (one root error, one diagnostic).
ERROR_SITE = -2


def lower_expr(lw: Lowerer, e: n.Expr) -> ir.Expr:
    if isinstance(e, n.IntLit):
        if e.value > INT64_MAX:
            lw.report(error("E122", f"{e.value} does not fit in int64_t, the type of every "
                            "integer in the generated C++", e.span,
                            help=(f"the largest integer of a program is {INT64_MAX}",)))
            return ir.Const(0, ERR, e.span)
        return ir.Const(e.value, ir.INT, e.span)
    if isinstance(e, n.FloatLit):
        return ir.Const(e.value, ir.FLOAT, e.span)
    if isinstance(e, n.BoolLit):
        return ir.Const(e.value, ir.BOOL, e.span)
    if isinstance(e, n.NoneLit):
        return ir.Const(None, ir.TaskTy(frozenset(), True), e.span)
    if isinstance(e, n.Name):
        var = lw.resolve(n.Ident(e.name, e.span))
        if var is None:
            return ir.Const(0, ERR, e.span)
        return ir.Load(var, lw.load_ty(var), e.span)
    if isinstance(e, n.BinOp):
        return _binary(lw, e)
    if isinstance(e, n.Compare):
        return _compare(lw, e)
    if isinstance(e, n.Unary):
        return _unary(lw, e)
    if isinstance(e, n.Call):
        return _call(lw, e)
    if isinstance(e, n.Index):
        return _index(lw, e)
    if isinstance(e, n.Attr):
        return _attr(lw, e)
    if isinstance(e, n.NewTensor):
        lw.report(error("E114", "'new' is only allowed as a kernel argument", e.span,
                        help=("pass it to an 'out' parameter: K(..., new f32[m, n])",)))
    elif isinstance(e, n.Alloc):
        lw.report(error("E114", "'alloc(...)' must be bound with 'let' or assigned", e.span,
                        help=("write: let acc = alloc(...)",)))
    elif isinstance(e, n.Dummy):
        lw.report(error("E113", "a dummy task must be a statement of its own", e.span,
                        help=("submit it first: let d = dummy(...), then name d in deps",)))
    elif isinstance(e, n.TaskArray):
        lw.report(error("E136", "'tasks[...]' must be bound with 'let'", e.span,
                        help=("write: let ids = tasks[N]",)))
    elif isinstance(e, n.ListLit):
        lw.report(error("E112", "a list is only allowed as the shape of 'reshape'", e.span))
    return ir.Const(0, ERR, e.span)


def _numeric(ty: ir.Ty) -> bool:
    return ty in (ir.INT, ir.FLOAT, ERR)


def _binary(lw: Lowerer, e: n.BinOp) -> ir.Expr:
    left, right = lower_expr(lw, e.left), lower_expr(lw, e.right)
    if ERR in (left.ty, right.ty):
        return ir.Binary(e.op, left, right, ERR, e.span)
    if e.op in ("and", "or"):
        if left.ty == ir.BOOL and right.ty == ir.BOOL:
            return ir.Binary(e.op, left, right, ir.BOOL, e.span)
        lw.report(error("E112", f"'{e.op}' needs two conditions, got {left.ty} and {right.ty}",
                        e.span))
        return ir.Binary(e.op, left, right, ERR, e.span)
    if _numeric(left.ty) and _numeric(right.ty):
        ty = ir.INT if left.ty == ir.INT and right.ty == ir.INT else ir.FLOAT
        if ty == ir.FLOAT and e.op == "%":
            lw.report(error("E112", "'%' needs integers", e.span))
        elif ty == ir.INT and not _constant_ok(lw, e.op, left, right, e.span):
            return ir.Binary(e.op, left, right, ERR, e.span)
        return ir.Binary(e.op, left, right, ty, e.span)
    lw.report(error("E112", f"'{e.op}' cannot combine {left.ty} and {right.ty}", e.span))
    return ir.Binary(e.op, left, right, ERR, e.span)


def _constant_ok(lw: Lowerer, op: str, left: ir.Expr, right: ir.Expr, span: Span) -> bool:
    """E122 for integer arithmetic that is wrong whatever the case: a division by the
    constant 0, or constants whose result does not fit in int64_t (the generated C++'s type;
    with a case, instantiation checks every value the same way, E170)."""
    if op in ("/", "%", "cdiv") and isinstance(right, ir.Const) and right.value == 0:
        lw.report(error("E122", "division by zero", span, help=(
            "the divisor is the constant 0 here, in every case",)))
        return False
    if isinstance(left, ir.Const) and isinstance(right, ir.Const) and op in ("+", "-", "*"):
        a, b = left.value, right.value
        assert isinstance(a, int) and isinstance(b, int)
        value = a + b if op == "+" else a - b if op == "-" else a * b
        if not INT64_MIN <= value <= INT64_MAX:
            lw.report(error("E122", f"{a} {op} {b} = {value} overflows int64_t, the type of "
                            "every integer in the generated C++", span))
            return False
    return True


def _compare(lw: Lowerer, e: n.Compare) -> ir.Expr:
    left, right = lower_expr(lw, e.left), lower_expr(lw, e.right)
    ok = (_numeric(left.ty) and _numeric(right.ty)) or (
        e.op in ("==", "!=") and left.ty == right.ty == ir.BOOL) or ERR in (left.ty, right.ty)
    if not ok:
        lw.report(error("E112", f"cannot compare {left.ty} with {right.ty}", e.span))
    return ir.Binary(e.op, left, right, ir.BOOL if ok else ERR, e.span)


def _unary(lw: Lowerer, e: n.Unary) -> ir.Expr:
    operand = lower_expr(lw, e.operand)
    if e.op == "not":
        if operand.ty not in (ir.BOOL, ERR):
            lw.report(error("E112", f"'not' needs a condition, got {operand.ty}", e.span))
            return ir.UnaryOp("not", operand, ERR, e.span)
        return ir.UnaryOp("not", operand, ir.BOOL, e.span)
    if not _numeric(operand.ty):
        lw.report(error("E112", f"cannot negate {operand.ty}", e.span))
        return ir.UnaryOp("-", operand, ERR, e.span)
    if isinstance(operand, ir.Const) and isinstance(operand.value, (int, float)):
        return ir.Const(-operand.value, operand.ty, e.span)
    return ir.UnaryOp("-", operand, operand.ty, e.span)


def _call(lw: Lowerer, e: n.Call) -> ir.Expr:
    name = e.func.name
    if name in lw.kernels:
        lw.report(error("E113", f"a call of kernel '{name}' must be a statement of its own",
                        e.span, help=(f"submit it first: let t = {name}(...), then use t's "
                                      "outputs",)))
        return ir.Const(0, ERR, e.span)
    if name in ("min", "max", "cdiv"):
        args = [lower_expr(lw, a) for a in e.args]
        if len(args) < 2 or (name == "cdiv" and len(args) != 2):
            lw.report(error("E104", f"'{name}' takes {'2' if name == 'cdiv' else '2 or more'} "
                            f"arguments, {len(args)} given", e.span))
            return ir.Const(0, ERR, e.span)
        want = (ir.INT,) if name == "cdiv" else (ir.INT, ir.FLOAT)
        for a in args:
            if a.ty not in want + (ERR,):
                lw.report(error("E112", f"'{name}' needs numbers, got {a.ty}", a.span))
                return ir.Const(0, ERR, e.span)
        if name == "cdiv" and not _constant_ok(lw, name, args[0], args[1], e.span):
            return ir.Const(0, ERR, e.span)
        result = args[0]
        for a in args[1:]:
            ty = ir.INT if result.ty == ir.INT and a.ty == ir.INT else ir.FLOAT
            result = ir.Binary(name, result, a, ty, e.span)
        return result
    if name == "reshape":
        return _reshape(lw, e)
    if name in CORE_COUNTS:
        return core_count(lw, e)
    if name == "manual_dep":
        if len(e.args) != 1:
            lw.report(error("E104", f"'manual_dep' takes 1 argument, {len(e.args)} given",
                            e.span))
            return ir.Const(0, ERR, e.span)
        t = lower_expr(lw, e.args[0])
        if not isinstance(t.ty, ir.TensorTy):
            if t.ty != ERR:
                lw.report(error("E109", f"'manual_dep' needs a tensor, got {t.ty}", t.span))
            return ir.Const(0, ERR, e.span)
        return ir.ManualDep(t, t.ty, e.span)
    guess = lw.close_match(name, lambda: list(lw.kernels) + list(BUILTINS))
    lw.report(error("E103", f"unknown kernel or function '{name}'", e.func.span,
                    help=(f"did you mean '{guess}'?",) if guess else (
                        "declare it: kernel NAME aic|aiv FUNC_ID (params)",)))
    return ir.Const(0, ERR, e.span)


def _reshape(lw: Lowerer, e: n.Call) -> ir.Expr:
    if len(e.args) != 2 or not isinstance(e.args[1], n.ListLit):
        lw.report(error("E104", "'reshape' takes a tensor and a list of dims", e.span,
                        help=("write: reshape(t, [m * n, k])",)))
        return ir.Const(0, ERR, e.span)
    t = lower_expr(lw, e.args[0])
    dims = tuple(lw.int_expr(d) for d in e.args[1].items)
    lw.check_rank(len(dims), e.args[1].span)
    if not isinstance(t.ty, ir.TensorTy):
        if t.ty != ERR:
            lw.report(error("E109", f"'reshape' needs a tensor, got {t.ty}", t.span))
        return ir.Const(0, ERR, e.span)
    return ir.Reshape(t, dims, ir.TensorTy(t.ty.dtype, len(dims), t.ty.writable), e.span)


def _index(lw: Lowerer, e: n.Index) -> ir.Expr:
    base = lower_expr(lw, e.base)
    if base.ty == ERR:
        return ir.Const(0, ERR, e.span)
    if not isinstance(base.ty, ir.TensorTy):
        lw.report(error("E109", f"only a tensor can be indexed, not {base.ty}", e.base.span))
        return ir.Const(0, ERR, e.span)
    rank = base.ty.rank
    if len(e.subscripts) != rank:
        lw.report(error("E107", f"this tensor has rank {rank}, but {len(e.subscripts)} "
                        "subscripts are given", e.span,
                        help=("use ':' for a whole dimension",)))
        return ir.Const(0, ERR, e.span)
    slices = [s for s in e.subscripts if isinstance(s, n.Slice)]
    if not slices:
        indices = tuple(lw.int_expr(s) for s in e.subscripts if not isinstance(s, n.Slice))
        dtype = base.ty.dtype
        ty = ir.FLOAT if dtype in FLOAT_TYPES else ir.INT
        return ir.ElementRead(base, indices, ty, e.span)
    if len(slices) != len(e.subscripts):
        single = next(s for s in e.subscripts if not isinstance(s, n.Slice))
        lw.report(error("E107", "a view cannot mix single indices and slices", single.span,
                        help=("views keep the rank: write 'i : i + 1' for one row",)))
        return ir.Const(0, ERR, e.span)
    out = tuple(ir.SliceIR(lw.int_expr(s.lo) if s.lo is not None else None,
                           lw.int_expr(s.hi) if s.hi is not None else None, s.span)
                for s in slices)
    return ir.View(base, out, base.ty, e.span)


def _attr(lw: Lowerer, e: n.Attr) -> ir.Expr:
    base = lower_expr(lw, e.base)
    if base.ty == ERR:
        return ir.Const(0, ERR, e.span)
    if not isinstance(base.ty, ir.TaskTy):
        lw.report(error("E109", f"only a task has outputs, not {base.ty}", e.base.span))
        return ir.Const(0, ERR, e.span)
    if ERROR_SITE in base.ty.sites or base.ty.sites & lw.broken_sites:
        return ir.Const(0, ERR, e.span)  # a submission that failed to lower: reported
    if not base.ty.sites:
        lw.report(error("E110", "this task variable is always none here", e.base.span))
        return ir.Const(0, ERR, e.span)
    name = e.attr.name
    found: ir.TensorTy | None = None
    for site in sorted(base.ty.sites):
        s = lw.sites[site]
        outputs = dict(s.outputs)
        if name not in outputs:
            have = ", ".join(outputs) or "none"
            lw.report(error("E110", f"a '{s.label}' task here has no output '{name}'",
                            e.attr.span, notes=[Note("submitted here", s.span)],
                            help=(f"its new outputs are: {have}",)))
            return ir.Const(0, ERR, e.span)
        if found is not None and outputs[name] != found:
            lw.report(error("E110", f"output '{name}' has different types in the tasks this "
                            "variable may hold", e.attr.span))
            return ir.Const(0, ERR, e.span)
        found = outputs[name]
        if s.scope is not None and s.scope not in lw.scopes:
            lw.report(error("E140", f"output '{name}' is used after the scope of its task "
                            "ended", e.span,
                            notes=[Note("the task is submitted here", s.span),
                                   Note("inside this scope", s.scope.span)],
                            help=("the runtime may recycle the buffer once the scope ends; "
                                  "use it inside the scope or allocate it in an outer one",)))
            return ir.Const(0, ERR, e.span)
    assert found is not None
    return ir.OutputOf(base, name, found, e.span)
