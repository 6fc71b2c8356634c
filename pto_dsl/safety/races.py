"""Check: every hazard is ordered by the edges the runtime creates.

A hazard whose tasks are not ordered is a race (E201): the later task may run first, or at
the same time. Inside a manual scope and across the manual/auto boundary only explicit deps
order tasks (runtime-model.md); in AUTO scopes the runtime does not track write-after-read at
all (runtime-model.md), so those races are warnings (W201) about the runtime's own rule. One
diagnostic per pair of submission sites, with the first instance and the number of others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pto_dsl import ir
from pto_dsl.diagnostics import Diagnostic, Note, Stage, error, warning
from pto_dsl.dialects import RuntimeConfig
from pto_dsl.graph import TaskGraph
from pto_dsl.safety.fixes import dep_fix, dep_fix_edits, more_instances
from pto_dsl.safety.hazards import Hazard, Kind, buffer_hazards, find
from pto_dsl.safety.ordering import Ordering
from pto_dsl.safety.screen import Screen

_VERB = {Kind.RAW: ("writes", "reads"), Kind.WAR: ("reads", "writes"),
         Kind.WAW: ("writes", "writes")}


@dataclass
class _Group:
    first: Hazard
    count: int = 0
    pairs: set[tuple[int, int]] = field(default_factory=set)
    params: dict[str, None] = field(default_factory=dict)  # the later task's, in order


def unordered(graph: TaskGraph, on_race: Callable[[Hazard], None],
              screened: bool = True) -> None:
    """Call `on_race` for every hazard whose tasks the graph's edges do not order, buffer
    by buffer in the order of their first uses. Buffers the screen clears are skipped
    (`screened=False` searches every one: the same calls, tests/test_checks_screen.py)."""
    order = Ordering(graph, waits=True)

    def on_hazard(h: Hazard) -> None:
        if not order.ordered(h.earlier.task, h.later.task):
            on_race(h)
    if not screened:
        find(graph, on_hazard, unless=order.ordered)
        return
    screen = Screen(graph, order)
    for flat in screen.racy_runs():  # the others have no unordered hazard
        buffer_hazards(flat, on_hazard, unless=order.ordered, keep=screen.racy_chains)


def is_error(graph: TaskGraph, h: Hazard) -> bool:
    """E201, not W201: a manual task is involved, or the runtime would order this kind."""
    manual = graph.task(h.earlier.task).in_manual or graph.task(h.later.task).in_manual
    return manual or h.kind is not Kind.WAR


def check(program: ir.Program, graph: TaskGraph, runtime: RuntimeConfig) -> list[Diagnostic]:
    groups: dict[tuple[int, int, Kind], _Group] = {}

    def on_hazard(h: Hazard) -> None:
        early, late = graph.task(h.earlier.task), graph.task(h.later.task)
        key = (early.site, late.site, h.kind)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(h)
        group.params.setdefault(h.later.access.param, None)
        if (early.id, late.id) not in group.pairs:
            group.pairs.add((early.id, late.id))
            group.count += 1

    unordered(graph, on_hazard)
    return [_diagnostic(program, graph, g) for g in groups.values()]


def _diagnostic(program: ir.Program, graph: TaskGraph, group: _Group) -> Diagnostic:
    h = group.first
    early, late = graph.task(h.earlier.task), graph.task(h.later.task)
    did, does = _VERB[h.kind]
    acc = h.later.access
    params = ", ".join(f"'{p}'" for p in group.params)
    element = (f" (element {early.element[1]} of task-id array '{early.element[0]}')"
               if early.element is not None else "")
    message = (f"race ({h.kind.value}): '{late.kernel}' {does} {params}, which "
               f"'{early.kernel}'{element} {did}, and nothing orders '{late.kernel}' after "
               f"'{early.kernel}'")
    notes = [Note(f"'{early.kernel}' {did} it here", early.span),
             Note(f"first instance: {early.label} and {late.label}, buffer "
                  f"'{acc.buffer.name}' {acc.region}{more_instances(group.count)}")]
    fix = dep_fix(program, early, late)
    edits = dep_fix_edits(program, early, late)
    manual = early.in_manual or late.in_manual
    if is_error(graph, h):
        where = "a manual scope orders tasks only by their deps" if manual else \
            "the runtime does not order these arguments"
        return error("E201", message, late.span, notes=notes, help=(fix, where),
                     stage=Stage.VALIDATION, fixes=edits)
    return warning("W201", message, late.span, notes=notes,
                   help=(fix, "in AUTO scopes the runtime does not track write-after-read: a "
                         "reader is never a producer"), stage=Stage.VALIDATION, fixes=edits)
