"""Check: kernel attributes that later tools use are well formed.

`impl "module:function"` names the simulator's implementation; `cost EXPR` may use only
numbers, the kernel's dimension symbols and scalar parameters, + - * / % and min, max,
cdiv.
"""

from __future__ import annotations

import re

from pto_dsl import ir
from pto_dsl import nodes as n
from pto_dsl.diagnostics import Diagnostic, error
from pto_dsl.dialects import Dialect

_IMPL = re.compile(r"^[\w./-]+(\.py)?:[A-Za-z_]\w*$")
_COST_FUNCS = ("min", "max", "cdiv")


def check(program: ir.Program, dialect: Dialect) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for kernel in program.kernels.values():
        if kernel.impl is not None and not _IMPL.match(kernel.impl.value):
            found.append(error("E153", f"impl of kernel '{kernel.name}' must be written "
                               "\"module:function\" or \"file.py:function\"",
                               kernel.impl.span))
        if kernel.cost is not None:
            names = _names(kernel)
            found.extend(_cost(kernel, kernel.cost, names))
    return found


def _names(kernel: ir.Kernel) -> set[str]:
    names = {p.name for p in kernel.scalar_params}
    for p in kernel.tensor_params:
        names.update(d for d in p.dims or () if isinstance(d, str) and d != "_")
    return names


def _cost(kernel: ir.Kernel, e: n.Expr, names: set[str]) -> list[Diagnostic]:
    if isinstance(e, (n.IntLit, n.FloatLit)):
        return []
    if isinstance(e, n.Name):
        if e.name in names:
            return []
        known = ", ".join(sorted(names)) or "none"
        return [error("E154", f"the cost of '{kernel.name}' uses '{e.name}', which is not a "
                      "dimension or scalar of its signature", e.span,
                      help=(f"it can use: {known}",))]
    if isinstance(e, n.BinOp) and e.op in ("+", "-", "*", "/", "%"):
        return _cost(kernel, e.left, names) + _cost(kernel, e.right, names)
    if isinstance(e, n.Unary) and e.op == "-":
        return _cost(kernel, e.operand, names)
    if isinstance(e, n.Call) and e.func.name in _COST_FUNCS:
        return [d for a in e.args for d in _cost(kernel, a, names)]
    return [error("E154", f"the cost of '{kernel.name}' must be arithmetic on numbers, "
                  "dimensions and scalars", e.span)]
