"""Comparisons whose value a C++ compiler sees without running them (part of the C++
backend): the same integer or bool operand on both sides, or two integer literals. The
backend writes them as `true`/`false`, since `N < N` warns (-Wtautological-compare), and
does not count their operands as uses. Float comparisons are never folded (`x == x` is
false for a NaN)."""

from __future__ import annotations

from pto_dsl import ir

# The orders (left <=> right: -1, 0, 1) for which each comparison holds.
_HOLDS = {"==": (0,), "!=": (-1, 1), "<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (0, 1)}


def static_compare(e: ir.Binary) -> bool | None:
    """The value of a comparison known without running it, or None."""
    if e.op not in _HOLDS or e.left.ty != e.right.ty or e.left.ty not in (ir.INT, ir.BOOL):
        return None
    a, b = _int_literal(e.left), _int_literal(e.right)
    if same(e.left, e.right):
        order = 0
    elif a is not None and b is not None:
        order = (a > b) - (a < b)
    else:
        return None
    return order in _HOLDS[e.op]


def same(a: ir.Expr, b: ir.Expr) -> bool:
    """The two expressions compute the same scalar (spans aside); reads of tensor contents
    are never called the same (a compiler does not see through them either)."""
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        return type(a.value) is type(b.value) and a.value == b.value
    if isinstance(a, ir.Load) and isinstance(b, ir.Load):
        return a.var is b.var
    if isinstance(a, ir.UnaryOp) and isinstance(b, ir.UnaryOp):
        return a.op == b.op and same(a.operand, b.operand)
    if isinstance(a, ir.Binary) and isinstance(b, ir.Binary):
        return a.op == b.op and same(a.left, b.left) and same(a.right, b.right)
    return False


def _int_literal(e: ir.Expr) -> int | None:
    if isinstance(e, ir.Const) and type(e.value) is int:
        return e.value
    return None
