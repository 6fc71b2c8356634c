"""Check: no scope holds more tasks than the ring's task window allows (reference §2.7).

Every task belongs to the scope that was innermost when it was submitted (alloc tasks too;
the entry's own level is the executor's outer scope). A submit that would make one scope
hold `window` tasks is fatal SCOPE_DEADLOCK (code 1): the scope's tasks cannot retire before
it ends, so the ring can never make room.
"""

from __future__ import annotations

from collections import Counter

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, error
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import ScopeInstance, TaskGraph


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig,
          prefix: bool = False) -> list[Diagnostic]:
    """`prefix`: the graph is the part instantiated until a scope reached the window."""
    limit = runtime.task_window - 1
    sizes: Counter[int] = Counter()
    scopes: dict[int, ScopeInstance | None] = {}
    for task in graph.tasks():
        key = task.scope.id if task.scope is not None else -1
        sizes[key] += 1
        scopes[key] = task.scope
    found: list[Diagnostic] = []
    reported: set[int] = set()  # one diagnostic per scope block (or the entry's level)
    for key, count in sizes.items():
        if count <= limit:
            continue
        scope = scopes[key]
        decl = scope.decl.id if scope is not None else -1
        if decl in reported:
            continue
        reported.add(decl)
        found.append(_diagnostic(program, graph, scope, count, runtime.task_window, prefix))
    return found


def _diagnostic(program: ir.Program, graph: TaskGraph, scope: ScopeInstance | None,
                count: int, window: int, prefix: bool) -> Diagnostic:
    where = "this scope" if scope is not None else "the entry's own level (outside any scope)"
    inst = ""
    if scope is not None and scope.instance:
        inst = " (first at " + ", ".join(f"{k}={v}" for k, v in scope.instance) + ")"
    span = scope.decl.span if scope is not None else program.span
    task = next(t for t in graph.tasks() if (t.scope is scope))
    return error(
        "E202", f"{where} holds {'at least ' if prefix else ''}{count} tasks in case "
        f"'{graph.case}'{inst}; with a task "
        f"window of {window}, submitting its task number {window} is fatal SCOPE_DEADLOCK "
        "(code 1)",
        span, notes=[Note(f"its first task, {task.label}", task.span)],
        help=(f"a scope holds at most window - 1 = {window - 1} tasks: split it into smaller "
              "scopes, or raise PTO2_RING_TASK_WINDOW (a power of 2) and pass it here with "
              "--task-window",), stage=Stage.VALIDATION)
