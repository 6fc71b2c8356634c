"""Wording shared by the graph checks: the dep a user can write, instance counts."""

from __future__ import annotations

from pto_dsl import ir
from pto_dsl.graph import Task


def dep_fix(program: ir.Program, early: Task, late: Task) -> str:
    """A dep on a task variable that may hold the earlier task at the later submission
    (preferring one that holds nothing else), in the program's own syntax."""
    where = f"{late.span.file}:{late.span.line}"
    reaching = program.sites[late.site].reaching
    names = sorted((len(sites), name) for name, sites in reaching.items() if early.site in sites)
    if not names:
        return (f"keep the '{early.kernel}' task in a task variable visible at {where} and "
                "add a dep on it there")
    return f"add \"dep {names[0][1]}\" to the submission at {where}"


def more_instances(count: int) -> str:
    """'; N more instances' after a first instance, or nothing when there is one."""
    others = count - 1
    return f"; {others} more instance{'s' if others != 1 else ''}" if others else ""
