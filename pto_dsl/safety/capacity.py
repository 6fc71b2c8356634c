"""Check: no scope holds more tasks than the ring's task window allows (docs/runtime-model.md,
"Rings").

Every task belongs to the scope that was innermost when it was submitted (alloc tasks too;
the entry's own level is the executor's outer scope). A submit that would make one scope
hold `window` tasks is fatal SCOPE_DEADLOCK (code 1, E202): the scope's tasks cannot retire
before it ends, so the ring can never make room. Scopes at depth 3 and deeper share ring 3,
and a ring is reclaimed in order: while a scope is open its first task pins the ring, so if
the ring-3 tasks submitted from that task to the scope's end fill the window, the allocator
deadlocks (FLOW_CONTROL_DEADLOCK, code 3, E203) although no single scope is too large.
"""

from __future__ import annotations

import bisect
from collections import Counter

import numpy as np

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, error
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import ScopeInstance, TaskGraph
from pto_dsl.safety import columns


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig,
          prefix: bool = False, screened: bool = True) -> list[Diagnostic]:
    """`prefix`: the graph is the part instantiated until a scope reached the window.
    Each part is skipped when the tasks' scope and ring columns show it finds nothing
    (`screened=False` runs both: the same findings, tests/test_checks_screen.py)."""
    limit = runtime.task_window - 1
    found: list[Diagnostic] = []
    reported: set[int] = set()  # one diagnostic per scope block (or the entry's level)
    scopes = columns.task_scopes(graph)
    if not screened or (len(scopes) and int(np.bincount(scopes + 1).max()) > limit):
        found = _too_big(program, graph, runtime, prefix, reported)
    if not screened or ((columns.task_rings(graph) == SHARED_RING) & (scopes >= 0)).any():
        found += _shared_ring(graph, runtime.task_window, reported)
    return found


def _too_big(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig, prefix: bool,
             reported: set[int]) -> list[Diagnostic]:
    """E202 per scope block with an instance (or the entry's level) over the window."""
    limit = runtime.task_window - 1
    sizes: Counter[int] = Counter()
    scopes: dict[int, ScopeInstance | None] = {}
    for task in graph.tasks():
        key = task.scope.id if task.scope is not None else -1
        sizes[key] += 1
        scopes[key] = task.scope
    found: list[Diagnostic] = []
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


SHARED_RING = 3  # ring = min(depth, 3): every scope from depth 3 on submits to ring 3


def _shared_ring(graph: TaskGraph, window: int, reported: set[int]) -> list[Diagnostic]:
    """E203: ring-3 tasks from a scope's first own task to its end fill the window."""
    first: dict[int, int] = {}  # scope instance -> its first own task
    last: dict[int, int] = {}  # scope instance -> the last task submitted while it is open
    ring_tasks: list[int] = []  # ids of ring-3 tasks, in order
    scopes: dict[int, ScopeInstance] = {}
    for task in graph.tasks():
        if task.ring != SHARED_RING or task.scope is None:
            continue
        ring_tasks.append(task.id)
        first.setdefault(task.scope.id, task.id)
        s: ScopeInstance | None = task.scope
        while s is not None and s.depth >= SHARED_RING:
            last[s.id] = task.id
            scopes[s.id] = s
            s = s.parent
    found: list[Diagnostic] = []
    for sid, start in first.items():
        scope = scopes[sid]
        held = bisect.bisect_right(ring_tasks, last[sid]) - bisect.bisect_left(ring_tasks, start)
        if held < window or scope.decl.id in reported:
            continue
        reported.add(scope.decl.id)
        task = graph.task(start)
        found.append(error(
            "E203", f"while this scope is open, {held} tasks enter ring {SHARED_RING} from its "
            f"first task on (it and the scopes inside it, which share the ring) in case "
            f"'{graph.case}'; with a task window of {window} the allocator deadlocks: fatal "
            f"FLOW_CONTROL_DEADLOCK (code 3)", scope.decl.span,
            notes=[Note(f"its first task, {task.label}, pins ring {SHARED_RING}: the ring is "
                        "reclaimed in order and the task is not reclaimed before the scope "
                        "ends", task.span)],
            help=(f"scopes from depth {SHARED_RING} on share ring {SHARED_RING}: submit fewer "
                  "tasks while this scope is open, nest less deeply, or raise "
                  "PTO2_RING_TASK_WINDOW (and pass it here with --task-window)",),
            stage=Stage.VALIDATION))
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
