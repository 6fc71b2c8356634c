"""What the C++ backend needs to know about the whole program before emitting a line:
which variables are read, how task variables are defined, which reshapes of entry
tensors can become the entry tensor's own wrapper (runtime-model.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pto_dsl import ir

from .cpp_fold import static_compare


@dataclass
class Uses:
    names: set[str] = field(default_factory=set)
    loads: dict[ir.Var, int] = field(default_factory=dict)
    # Task variables defined once, by a submission or alloc: they hold the submit result
    # (TaskOutputTensors), so their outputs and task id are always available.
    result_vars: set[ir.Var] = field(default_factory=set)
    maybe_none: set[ir.Var] = field(default_factory=set)  # may hold `none` when read
    folded_entries: set[ir.Var] = field(default_factory=set)
    folded_lets: set[ir.Var] = field(default_factory=set)
    reassigned: set[ir.Var] = field(default_factory=set)  # ints assigned after their let

    def loaded_vars(self) -> dict[ir.Var, int]:
        return self.loads


def collect_uses(program: ir.Program) -> Uses:
    uses = Uses()
    defs: dict[ir.Var, list[ir.Stmt]] = {}
    for v in [t.var for t in program.tensors] + [s.var for s in program.scalars] \
            + list(program.symbols.values()):
        uses.names.add(v.name)
    for stmt in ir.walk_stmts(program.body):
        for e in _exprs(stmt):
            _count(e, uses.loads)
        target = _target(stmt)
        if isinstance(stmt, ir.AssignStmt) and not stmt.var.task_var:
            uses.reassigned.add(stmt.var)
        if target is not None:
            uses.names.add(target.name)
            if target.task_var:
                defs.setdefault(target, []).append(stmt)
        if isinstance(stmt, ir.ForStmt):
            uses.names.add(stmt.var.name)
    uses.result_vars = {v for v, ds in defs.items()
                        if len(ds) == 1 and isinstance(ds[0], (ir.Submit, ir.AllocStmt))}
    uses.maybe_none = _maybe_none(defs)
    _fold_reshapes(program, uses)
    return uses


def _target(s: ir.Stmt) -> ir.Var | None:
    if isinstance(s, (ir.LetStmt, ir.AssignStmt)):
        return s.var
    if isinstance(s, (ir.Submit, ir.AllocStmt)):
        return s.target
    if isinstance(s, ir.TaskArrayDecl):
        return s.var
    return None


def _exprs(s: ir.Stmt) -> Iterator[ir.Expr]:
    """The expressions a statement evaluates itself, the task variables of its deps among
    them (not those of nested statements)."""
    if isinstance(s, ir.AssignStmt) and isinstance(s.value, ir.Load) and s.value.var is s.var:
        return  # `t = t` is written as a comment: not a use of t
    yield from ir.own_exprs(s)
    if isinstance(s, ir.Submit):
        yield from (ir.Load(d.var, d.var.ty, d.span) for d in s.deps)


def _count(e: ir.Expr, loads: dict[ir.Var, int]) -> None:
    if isinstance(e, ir.Load):
        loads[e.var] = loads.get(e.var, 0) + 1
    elif isinstance(e, ir.Binary):
        if static_compare(e) is not None:
            return  # written as its value: the operands are not read
        _count(e.left, loads)
        _count(e.right, loads)
    elif isinstance(e, ir.UnaryOp):
        _count(e.operand, loads)
    elif isinstance(e, ir.ElementRead):
        _count(e.tensor, loads)
        for i in e.indices:
            _count(i, loads)
    elif isinstance(e, ir.View):
        _count(e.tensor, loads)
        for s in e.slices:
            for bound in (s.lo, s.hi):
                if bound is not None:
                    _count(bound, loads)
    elif isinstance(e, ir.Reshape):
        _count(e.tensor, loads)
        for d in e.dims:
            _count(d, loads)
    elif isinstance(e, (ir.ManualDep, ir.OutputOf)):
        _count(e.tensor if isinstance(e, ir.ManualDep) else e.task, loads)


def _maybe_none(defs: dict[ir.Var, list[ir.Stmt]]) -> set[ir.Var]:
    """Task variables some definition of which may be `none` (flow-insensitive)."""
    found: set[ir.Var] = set()
    changed = True
    while changed:
        changed = False
        for var, ds in defs.items():
            if var in found:
                continue
            for d in ds:
                value = d.value if isinstance(d, (ir.LetStmt, ir.AssignStmt)) else None
                if (isinstance(value, ir.Const)
                        or (isinstance(value, ir.Load) and value.var in found)):
                    found.add(var)
                    changed = True
                    break
    return found


def _fold_reshapes(program: ir.Program, uses: Uses) -> None:
    """An entry tensor used only by top-level `let x = reshape(entry, ...)` statements is
    wrapped once per reshape with `make_tensor_external` in the reshaped shape, as the
    reference's orchestrations do (runtime-model.md), instead of being wrapped and then reshaped."""
    entries = {t.var for t in program.tensors}
    lets: dict[ir.Var, list[ir.Var]] = {}
    for s in program.body:
        if (isinstance(s, ir.LetStmt) and isinstance(s.value, ir.Reshape)
                and isinstance(s.value.tensor, ir.Load) and s.value.tensor.var in entries
                and s.var not in uses.reassigned):
            lets.setdefault(s.value.tensor.var, []).append(s.var)
    for entry, folded in lets.items():
        if uses.loads.get(entry, 0) == len(folded):
            uses.folded_entries.add(entry)
            uses.folded_lets.update(folded)
