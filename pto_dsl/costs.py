"""Kernel costs: a kernel's `cost` expression as a function of one call's tensors and scalars.

The timing model of `pto-run` and the critical path of `pto-graph` weigh tasks alike. The
expression (checked by checks/kernels.py: numbers, the kernel's own dimension symbols and
scalar parameters, `+ - * / %`, unary `-`, `min`, `max`, `cdiv`) is compiled once per kernel
into Python source, since it runs once per task; `/` is exact division. A call whose cost
divides by zero, or is negative, costs 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # DEFAULT_COST_CYCLES is read for pto-run's --help: the AST comes later
    from pto_dsl import ir
    from pto_dsl import nodes as n
    from pto_dsl.regions import Region

Scalar = int | float | bool

# What a kernel without a `cost` is charged, in cycles, by pto-run's timing model and
# pto-graph's critical path alike: a small tile's launch plus a few vector instructions.
DEFAULT_COST_CYCLES = 3600.0


class HasRegion(Protocol):
    """A tensor argument of a call: the box of its buffer it covers."""

    @property
    def region(self) -> Region: ...


CostFunction = Callable[[Sequence[HasRegion], Sequence[Scalar]], float]


def cost_function(kernel: ir.Kernel, default: float) -> CostFunction:
    """The kernel's cost on (its tensor arguments in parameter order, its scalars); `default`
    for a kernel without a `cost`."""
    if kernel.cost is None:
        return lambda tensors, scalars: default
    names: dict[str, str] = {}
    for ti, p in enumerate(kernel.tensor_params):
        for d, sym in enumerate(p.dims or ()):
            if isinstance(sym, str) and sym != "_":
                names.setdefault(sym, f"t[{ti}].region.sizes[{d}]")
    for si, sp in enumerate(kernel.scalar_params):
        names[sp.name] = f"float(s[{si}])"
    source = (f"def cost(t, s):\n"
              f"    try:\n"
              f"        return max(0.0, float({_source(kernel.cost, names)}))\n"
              f"    except (ZeroDivisionError, OverflowError):\n"
              f"        return 0.0\n")
    namespace = {"cdiv": _cdiv, "min": min, "max": max}  # only checked arithmetic
    exec(compile(source, f"<cost of {kernel.name}>", "exec"), namespace)
    return namespace["cost"]  # type: ignore[return-value]


def _source(e: n.Expr, names: dict[str, str]) -> str:
    from pto_dsl import nodes as n

    if isinstance(e, (n.IntLit, n.FloatLit)):
        return repr(float(e.value))
    if isinstance(e, n.Name):
        return names[e.name]
    if isinstance(e, n.BinOp):
        return f"({_source(e.left, names)} {e.op} {_source(e.right, names)})"
    if isinstance(e, n.Unary):
        return f"(-{_source(e.operand, names)})"
    assert isinstance(e, n.Call) and e.func.name in ("min", "max", "cdiv")
    return f"{e.func.name}({', '.join(_source(a, names) for a in e.args)})"


def _cdiv(a: float, b: float) -> float:
    return float(-(-a // b))
