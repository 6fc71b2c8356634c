"""Wording shared by the graph checks: the dep a user can write, instance counts."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.dep_edits import add_dep
from pto_dsl.diagnostics import Fix
from pto_dsl.graph import Task


def dep_fix(program: ir.Program, early: Task, late: Task) -> str:
    """A dep on a task variable that may hold the earlier task at the later submission
    (preferring one that holds nothing else), in the program's own syntax."""
    where = f"{late.span.file}:{late.span.line}"
    name = _dep_name(program, early, late)
    if name is None:
        return (f"keep the '{early.kernel}' task in a task variable visible at {where} and "
                "add a dep on it there")
    return f"add \"dep {name}\" to the submission at {where}"


def dep_fix_edits(program: ir.Program, early: Task, late: Task) -> tuple[Fix, ...]:
    """The edit `dep_fix` describes, when it names a variable and the clause is the user's."""
    name = _dep_name(program, early, late)
    submit = submission(program.body, late.site)
    if name is None or submit is None or any(d.inferred for d in submit.deps):
        return ()
    return (add_dep(submit.span, [d.span for d in submit.deps], name, late.kernel),)


def _dep_name(program: ir.Program, early: Task, late: Task) -> str | None:
    reaching = program.sites[late.site].reaching
    names = sorted((len(sites), name) for name, sites in reaching.items() if early.site in sites)
    if names:
        return names[0][1]
    if early.element is not None:  # the element of a task-id array it was stored in
        return f"{early.element[0]}[{early.element[1]}]"
    return None


def submission(stmts: tuple[ir.Stmt, ...], site: int) -> ir.Submit | None:
    """The submission statement of a site (None for an alloc)."""
    for s in stmts:
        found: ir.Submit | None = None
        if isinstance(s, ir.Submit) and s.site.id == site:
            return s
        if isinstance(s, (ir.ForStmt, ir.ScopeStmt)):
            found = submission(s.body, site)
        elif isinstance(s, ir.IfStmt):
            found = submission(s.then, site) or submission(s.orelse, site)
        if found is not None:
            return found
    return None


def more_instances(count: int) -> str:
    """'; N more instances' after a first instance, or nothing when there is one."""
    others = count - 1
    return f"; {others} more instance{'s' if others != 1 else ''}" if others else ""
