"""Check: the per-task and entry limits of the target dialect (runtime-model.md)."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, error
from pto_dsl.dialects import Dialect
from pto_dsl.source import Span


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
    found.extend(_dtypes(program, dialect))
    for stmt in _submits(program.body):
        count = sum(d.most_ids for d in stmt.deps)
        if dialect.max_deps is not None and count > dialect.max_deps:
            inferred = sum(1 for d in stmt.deps if d.inferred)
            what = f"needs {count} deps ({inferred} inferred)" if inferred else \
                (f"lists {count} deps" if count == len(stmt.deps) else
                 f"can name {count} task ids (a task-id array counts as its elements)")
            found.append(error(
                "E151", f"this submission {what}; the {dialect.name} "
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


def _dtypes(program: ir.Program, dialect: Dialect) -> list[Diagnostic]:
    """Tensor dtypes the dialect's DataType enum lacks, at each place they are written."""
    used: list[tuple[str, Span]] = [(t.dtype, t.span) for t in program.tensors]
    for kernel in program.kernels.values():
        used.extend((p.dtype, p.span) for p in kernel.tensor_params if p.dtype is not None)
    for stmt in _statements(program.body):
        if isinstance(stmt, ir.Submit):
            used.extend((a.dtype, a.span) for a in stmt.args if isinstance(a, ir.NewArg))
        elif isinstance(stmt, ir.AllocStmt):
            used.extend((i.dtype, i.span) for i in stmt.items)
    return [error("E155", f"dtype {dtype} does not exist in the {dialect.name} runtime", span,
                  help=("the current dialect has it",)) for dtype, span in used
            if dtype not in dialect.dtypes]


def _submits(stmts: tuple[ir.Stmt, ...]) -> list[ir.Submit]:
    return [s for s in _statements(stmts) if isinstance(s, ir.Submit)]


def _statements(stmts: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
    """Every statement, nested ones included, in program order."""
    out: list[ir.Stmt] = []
    for s in stmts:
        out.append(s)
        if isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            out.extend(_statements(s.body))
        elif isinstance(s, ir.IfStmt):
            out.extend(_statements(s.then) + _statements(s.orelse))
    return out
