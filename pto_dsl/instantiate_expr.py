"""Instantiation of expressions: typed IR expressions -> closures over the slot frame."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pto_dsl import ir
from pto_dsl.instantiate_host import Unknown, check_index, compile_core_count
from pto_dsl.regions import Region
from pto_dsl.source import Span
from pto_dsl.types import INT64_MAX, INT64_MIN, MAX_DIM
from pto_dsl.values import Tensor, TensorVal

if TYPE_CHECKING:
    from pto_dsl.instantiate import Eval, Frame, Instantiator

def _min(a: Any, b: Any) -> Any:
    if type(a) is Unknown or type(b) is Unknown:  # computed by a task: still computed
        return a if type(a) is Unknown else b
    return min(a, b)


def _max(a: Any, b: Any) -> Any:
    if type(a) is Unknown or type(b) is Unknown:
        return a if type(a) is Unknown else b
    return max(a, b)


_DIRECT: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "==": operator.eq,
    "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "min": _min, "max": _max}


def compile_expr(inst: Instantiator, e: ir.Expr) -> Eval:

    if isinstance(e, ir.Const):
        value = e.value
        return lambda f: value
    if isinstance(e, ir.Load):
        return operator.itemgetter(e.var.slot)
    if isinstance(e, ir.Binary):
        return _binary(inst, e)
    if isinstance(e, ir.UnaryOp):
        operand = compile_expr(inst, e.operand)
        if e.op == "not":
            return lambda f: not operand(f)
        negate: Eval = lambda f: -operand(f)  # noqa: E731
        return _int64(inst, negate, e.span) if e.ty == ir.INT else negate
    if isinstance(e, ir.ElementRead):
        return _element_read(inst, e)
    if isinstance(e, ir.View):
        return _view(inst, e)
    if isinstance(e, ir.Reshape):
        return _reshape(inst, e)
    if isinstance(e, ir.CoreCount):
        return compile_core_count(inst, e)
    if isinstance(e, ir.ManualDep):
        tensor = compile_expr(inst, e.tensor)

        def manual(f: Frame) -> TensorVal:
            tv = tensor(f)
            return TensorVal(tv.buffer, tv.region, True)
        return manual
    return _output_of(inst, e)


def _binary(inst: Instantiator, e: ir.Binary) -> Eval:
    left, right = compile_expr(inst, e.left), compile_expr(inst, e.right)
    op = e.op
    if op == "and":
        return lambda f: left(f) and right(f)
    if op == "or":
        return lambda f: left(f) or right(f)
    direct = _DIRECT.get(op)
    span = e.span
    if direct is not None and e.ty == ir.FLOAT:  # int -> float can overflow
        def checked(f: Frame) -> Any:
            try:
                return direct(left(f), right(f))
            except OverflowError:
                inst.fail("E170", "this value is too large for a float", span)
        return checked
    if direct is not None:
        if e.ty == ir.INT and op in "+-*":
            return _specialised_int64(inst, direct, e) or _int64(
                inst, lambda f: direct(left(f), right(f)), span)
        return _specialised(direct, e) or (lambda f: direct(left(f), right(f)))
    integer = e.ty == ir.INT

    def divide(f: Frame) -> Any:
        a, b = left(f), right(f)
        if type(a) is Unknown or type(b) is Unknown:
            return a if type(a) is Unknown else b
        if b == 0:
            inst.fail("E170", "division by zero", span)
        if not integer:
            try:
                return a / b if op == "/" else a % b
            except OverflowError:
                inst.fail("E170", "this value is too large for a float", span)
        if op == "cdiv":
            return -(-a // b)
        q = abs(a) // abs(b)  # C++ semantics: truncate toward zero
        q = -q if (a < 0) != (b < 0) else q
        if q > INT64_MAX:  # (-2^63) / (-1)
            _overflow(inst, q, span)
        return q if op == "/" else a - q * b
    return divide


def _int64(inst: Instantiator, compute: Eval, span: Span) -> Eval:
    """The generated C++ computes integers in int64_t: a result outside it is an error
    here rather than a wrapped (undefined) value there."""
    lo, hi = INT64_MIN, INT64_MAX

    def checked(f: Frame) -> Any:
        value = compute(f)
        if type(value) is Unknown or lo <= value <= hi:
            return value
        _overflow(inst, value, span)
    return checked


def _overflow(inst: Instantiator, value: int, span: Span) -> None:
    inst.fail("E170", f"integer overflow: {value} does not fit in int64_t, the type the "
              "generated C++ computes this in", span,
              help=("the checked graph is the one the C++ builds, and the C++ cannot hold "
                    "this value",))


def _specialised(op: Callable[[Any, Any], Any], e: ir.Binary) -> Eval | None:
    """Closures for the common shapes `var op const`, `var op var`, `const op var`:
    one call per operation instead of three (instantiation runs these millions of times)."""
    a, b = e.left, e.right
    if isinstance(a, ir.Load) and isinstance(b, ir.Const):
        i, k = a.var.slot, b.value
        return lambda f: op(f[i], k)
    if isinstance(a, ir.Load) and isinstance(b, ir.Load):
        i, j = a.var.slot, b.var.slot
        return lambda f: op(f[i], f[j])
    if isinstance(a, ir.Const) and isinstance(b, ir.Load):
        k, j = a.value, b.var.slot
        return lambda f: op(k, f[j])
    return None


def _specialised_int64(inst: Instantiator, op: Callable[[Any, Any], Any],
                       e: ir.Binary) -> Eval | None:
    """`_int64` of `_specialised`, in one closure (integer `+ - *` of a variable and a
    constant or two variables: most of a loop body's arithmetic)."""
    a, b, span, lo, hi = e.left, e.right, e.span, INT64_MIN, INT64_MAX
    if isinstance(a, ir.Load) and isinstance(b, ir.Const):
        i, k = a.var.slot, b.value

        def load_const(f: Frame) -> Any:
            value = op(f[i], k)
            if type(value) is Unknown or lo <= value <= hi:
                return value
            _overflow(inst, value, span)
        return load_const
    if isinstance(a, ir.Load) and isinstance(b, ir.Load):
        i, j = a.var.slot, b.var.slot

        def load_load(f: Frame) -> Any:
            value = op(f[i], f[j])
            if type(value) is Unknown or lo <= value <= hi:
                return value
            _overflow(inst, value, span)
        return load_load
    if isinstance(a, ir.Const) and isinstance(b, ir.Load):
        k, j = a.value, b.var.slot

        def const_load(f: Frame) -> Any:
            value = op(k, f[j])
            if type(value) is Unknown or lo <= value <= hi:
                return value
            _overflow(inst, value, span)
        return const_load
    return None


def _element_read(inst: Instantiator, e: ir.ElementRead) -> Eval:
    tensor = compile_expr(inst, e.tensor)
    indices = [compile_expr(inst, i) for i in e.indices]
    span = e.span

    def read(f: Frame) -> Any:
        tv = tensor(f)
        index = tuple(i(f) for i in indices)
        check_index(inst, tv, index, span)
        return inst.host_read(tv, index, span)
    return read


def _view(inst: Instantiator, e: ir.View) -> Eval:
    tensor = compile_expr(inst, e.tensor)
    bounds = [(compile_expr(inst, s.lo) if s.lo else None,
               compile_expr(inst, s.hi) if s.hi else None, s.span) for s in e.slices]
    # a site's views have a few distinct shapes: one tuple each, shared by its regions
    shapes: dict[tuple[int, ...], tuple[int, ...]] = {}

    def view(f: Frame) -> TensorVal:
        tv = tensor(f)
        region = tv.region
        offsets: list[int] = []
        shape: list[int] = []
        for (lo_e, hi_e, span), size, base in zip(bounds, region.sizes, region.offsets):
            lo = lo_e(f) if lo_e else 0
            hi = hi_e(f) if hi_e else size
            if not 0 <= lo < hi <= size:
                _bad_slice(inst, lo, hi, len(offsets), size, span)
            offsets.append(base + lo)
            shape.append(hi - lo)
        sizes = tuple(shape)
        sizes = shapes.setdefault(sizes, sizes)
        # like the runtime's view(), a view does not inherit manual_dep
        return TensorVal(tv.buffer, Region(region.layout, tuple(offsets), sizes), False)
    return view


def _bad_slice(inst: Instantiator, lo: int, hi: int, dim: int, size: int, span: Span) -> None:
    what = "is empty" if lo >= hi else "is out of bounds"
    inst.fail("E172", f"slice {lo}:{hi} {what} for dimension {dim} of size {size}", span)


def _reshape(inst: Instantiator, e: ir.Reshape) -> Eval:
    tensor = compile_expr(inst, e.tensor)
    dims = [compile_expr(inst, d) for d in e.dims]
    span = e.span

    def reshape(f: Frame) -> TensorVal:
        tv = tensor(f)
        shape = tuple(d(f) for d in dims)
        if tv.region.sizes != tv.region.layout or any(tv.region.offsets):
            inst.fail("E173", "only a whole tensor can be reshaped, not a view", span,
                      help=("reshape the tensor first, then take the view",))
        old, new = tv.region.numel, _numel(shape)
        if old != new or not all(0 < d <= MAX_DIM for d in shape):
            inst.fail("E173", f"cannot reshape {list(tv.region.sizes)} ({old} elements) to "
                      f"{list(shape)} ({new} elements)", span)
        return TensorVal(tv.buffer, Region(shape, (0,) * len(shape), shape), False)
    return reshape


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _output_of(inst: Instantiator, e: ir.Expr) -> Eval:
    assert isinstance(e, ir.OutputOf)
    task_e, name, span = compile_expr(inst, e.task), e.name, e.span

    def output(f: Frame) -> Tensor:
        task: Any = task_e(f)  # a Task, or the simulator's task value (sim.lowering)
        if task is None:
            inst.fail("E174", f"the task variable is none here, so it has no output '{name}'",
                      span, help=("guard the use, or assign a task first",))
        out: Tensor = task.output(name)  # of a Task: its OUTPUT access, a whole buffer
        return out
    return output
