"""Property: the fast kernel-signature check of a submission (`instantiate_submit._fast_dims`,
flat comparisons of (argument, dim) places) accepts exactly the sizes the general check
accepts, and where it does not, reports the general check's diagnostic.

Random signatures (fixed sizes, symbols shared by several dims or used once, `_`) and random
actual sizes, mostly matching the signature so both outcomes occur.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, NoReturn

from hypothesis import given, settings
from hypothesis import strategies as st

from pto_dsl.instantiate_submit import dims_checker

SYMBOLS = ("M", "N", "K", "_")


class Failed(Exception):
    pass


class FakeInst:
    """What dims_checker uses of an Instantiator: `fail`, which raises."""

    def fail(self, code: str, message: str, span: Any, help: tuple[str, ...] = ()) -> NoReturn:
        raise Failed(code, message, span, help)


@st.composite
def calls(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """(arguments with their parameters' dims, accesses with their sizes)."""
    args, accesses = [], []
    values = {s: draw(st.integers(1, 3)) for s in SYMBOLS}
    for i in range(draw(st.integers(1, 4))):
        dims = draw(st.lists(st.one_of(st.sampled_from(SYMBOLS), st.integers(1, 3)),
                             min_size=1, max_size=3))
        param = SimpleNamespace(name=f"p{i}", dims=tuple(dims))
        args.append(SimpleNamespace(param=param, span=f"span{i}"))
        sizes = [values[d] if isinstance(d, str) and d != "_" else
                 (d if isinstance(d, int) else draw(st.integers(1, 3))) for d in dims]
        if draw(st.integers(0, 3)) == 0:  # a wrong size somewhere, a quarter of the time
            k = draw(st.integers(0, len(sizes) - 1))
            sizes[k] = draw(st.integers(1, 3))
        accesses.append(SimpleNamespace(region=SimpleNamespace(sizes=tuple(sizes))))
    return args, accesses


def outcome(check: Any, accesses: list[Any]) -> tuple[Any, ...] | None:
    try:
        check(accesses)
    except Failed as exc:
        return exc.args
    return None


@settings(max_examples=500, deadline=None)
@given(calls())
def test_the_fast_signature_check_is_the_general_one(call: tuple[list[Any], list[Any]]) -> None:
    args, accesses = call
    kernel = SimpleNamespace(name="K")
    fast = dims_checker(FakeInst(), kernel, args)  # type: ignore[arg-type]
    general = dims_checker(FakeInst(), kernel, args, fast=False)  # type: ignore[arg-type]
    assert (fast is None) == (general is None)
    if fast is not None:
        assert outcome(fast, accesses) == outcome(general, accesses)


# ---- integer arithmetic: one fused closure per `var op const` shape ---------------------

BIG = 2**63
ints = st.one_of(st.integers(-5, 5), st.integers(-BIG, BIG - 1),
                 st.sampled_from([BIG - 1, -BIG, BIG // 2, -(BIG // 2), 3037000500]))


@st.composite
def operands(draw: st.DrawFn, slot: int) -> tuple[Any, Any]:
    """An operand (a Load of `slot` or a Const) and the frame value it reads, if any."""
    from pto_dsl import ir
    from pto_dsl.instantiate_host import Unknown

    value = draw(st.one_of(ints, st.just(Unknown(None, "T#0"))))  # type: ignore[arg-type]
    if isinstance(value, int) and draw(st.booleans()):
        return ir.Const(value, ir.INT, None), None  # type: ignore[arg-type]
    var = ir.Var(f"v{slot}", slot, ir.INT, None)  # type: ignore[arg-type]
    return ir.Load(var, ir.INT, None), value  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from("+-*"), operands(0), operands(1))
def test_fused_integer_arithmetic_is_the_checked_general_one(
        op: str, left: tuple[Any, Any], right: tuple[Any, Any]) -> None:
    from pto_dsl import ir
    from pto_dsl.instantiate_expr import _DIRECT, _int64, compile_expr

    e = ir.Binary(op, left[0], right[0], ir.INT, None)  # type: ignore[arg-type]
    inst = FakeInst()
    fast = compile_expr(inst, e)  # type: ignore[arg-type]
    lf, rf = compile_expr(inst, e.left), compile_expr(inst, e.right)  # type: ignore[arg-type]
    direct = _DIRECT[op]
    general = _int64(inst, lambda f: direct(lf(f), rf(f)), None)  # type: ignore[arg-type]
    frame = [left[1], right[1]]
    assert evaluated(fast, frame) == evaluated(general, frame)


def evaluated(compute: Any, frame: list[Any]) -> tuple[Any, ...]:
    """The value (an int, or the Unknown itself), or the diagnostic's arguments."""
    try:
        return ("value", compute(frame))
    except Failed as exc:
        return ("failed", *exc.args)
