"""Check: the per-task and entry limits of the target dialect (reference §1.5, §1.13, §2.7)."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, error
from pto_dsl.dialects import Dialect


def check(program: ir.Program, dialect: Dialect) -> list[Diagnostic]:
    found = []
    for kernel in program.kernels.values():
        params: tuple[ir.KParam, ...]
        for what, params, limit in (("tensor", kernel.tensor_params, dialect.max_tensors),
                                    ("scalar", kernel.scalar_params, dialect.max_scalars)):
            if len(params) > limit:  # point at the first argument over the limit
                found.append(error(
                    "E150", f"kernel '{kernel.name}' takes {len(params)} {what} arguments; the "
                    f"{dialect.name} runtime allows {limit} per task", params[limit].span,
                    help=(f"{dialect.name}: {dialect.description}",)))
    for stmt in _submits(program.body):
        if dialect.max_deps is not None and len(stmt.deps) > dialect.max_deps:
            found.append(error(
                "E151", f"this submission lists {len(stmt.deps)} deps; the {dialect.name} "
                f"runtime allows {dialect.max_deps} per task", stmt.deps[0].span.to(
                    stmt.deps[-1].span),
                help=("the 'current' dialect has no limit (set_dependencies)",)))
    entry_params: tuple[ir.EntryTensor | ir.EntryScalar, ...]
    for what, entry_params, limit in (("tensor", program.tensors, dialect.entry_max_tensors),
                                      ("scalar", program.scalars, dialect.entry_max_scalars)):
        if len(entry_params) > limit:
            found.append(error(
                "E152", f"the entry takes {len(entry_params)} {what} arguments; the "
                f"{dialect.name} runtime passes at most {limit}", entry_params[limit].span,
                help=(f"{dialect.name}: {dialect.description}",)))
    return found


def _submits(stmts: tuple[ir.Stmt, ...]) -> list[ir.Submit]:
    out: list[ir.Submit] = []
    for s in stmts:
        if isinstance(s, ir.Submit):
            out.append(s)
        elif isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            out.extend(_submits(s.body))
        elif isinstance(s, ir.IfStmt):
            out.extend(_submits(s.then) + _submits(s.orelse))
    return out
