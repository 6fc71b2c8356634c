"""Lowering of a submission's dispatch settings (part of the lowering stage): `early`
(the runtime's `set_allow_early_resolve`) and `predicate ELEMENT OP N` (`set_predicate`).

Only a kernel call takes a predicate (the runtime ignores one on a dummy task and an alloc
task has no dispatch at all); a kernel call or a dummy task takes `early` (the runtime
flags every alloc task itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.diagnostics import error
from pto_dsl.lower_expr import lower_expr
from pto_dsl.source import Span
from pto_dsl.types import FLOAT_TYPES

if TYPE_CHECKING:
    from pto_dsl.lower import Lowerer

# The runtime's PredicateOp, by the comparison that writes it.
PREDICATE_OPS = {"==": "EQ", "!=": "NE", ">": "GT", "<": "LT", ">=": "GE", "<=": "LE"}

_HELP = ("'early' lets the runtime stage a task's consumers on cores while it runs, and "
         "'predicate' decides at dispatch whether a kernel runs: both belong to a kernel "
         "call (a dummy task takes 'early' only)",)


def dispatch_of(lw: Lowerer, d: n.Dispatch | None,
                kind: str) -> tuple[Span | None, ir.Predicate | None]:
    """(early, predicate) of a submission of `kind` ('kernel', 'dummy', 'alloc' or
    'value'), reporting E134 for a setting that kind cannot take."""
    if d is None:
        return None, None
    if kind in ("alloc", "value") and d.early is not None:
        what = "an 'alloc'" if kind == "alloc" else "a value"
        lw.report(error("E134", f"{what} takes no 'early'", d.early, help=_HELP))
    if kind != "kernel" and d.predicate is not None:
        what = {"alloc": "an 'alloc'", "dummy": "a dummy task", "value": "a value"}[kind]
        lw.report(error("E134", f"{what} takes no 'predicate'", d.predicate.span,
                        help=("a predicate decides whether a kernel is dispatched to a core; "
                              "the runtime ignores it on a task that runs on no core",)))
    if kind == "kernel" and d.predicate is not None:
        return d.early, predicate(lw, d.predicate)
    return d.early if kind in ("kernel", "dummy") else None, None


def predicate(lw: Lowerer, e: n.Expr) -> ir.Predicate | None:
    """`t[i, ...] OP n`: an element of an integer or bool tensor and an int."""
    if not isinstance(e, n.Compare):
        _malformed(lw, e)
        return None
    left = lower_expr(lw, e.left) if isinstance(e.left, n.Index) else None
    if not isinstance(left, ir.ElementRead):
        if left is None or left.ty != ir.ERR:
            _malformed(lw, e.left)
        return None
    assert isinstance(left.tensor.ty, ir.TensorTy)
    dtype = left.tensor.ty.dtype
    if dtype in FLOAT_TYPES:
        lw.report(error("E135", f"a predicate reads an integer element, not {dtype}",
                        e.left.span,
                        help=("the runtime compares the element's bytes as a signed integer; "
                              "use an integer or bool tensor",)))
        return None
    return ir.Predicate(left.tensor, left.indices, e.op, lw.int_expr(e.right), e.span)


def _malformed(lw: Lowerer, e: n.Expr) -> None:
    lw.report(error("E135", "a predicate compares one element of a tensor with an integer",
                    e.span, help=("write 'predicate t[i] > 0': the element first, then one "
                                  "of == != > < >= <= and an int",)))
