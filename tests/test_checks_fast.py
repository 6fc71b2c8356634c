"""Property: the fast paths of the graph checks compute what their plain definitions do.

`retention.oldest_held` (shared by the retention and redundancy checks) walks flat
per-task rows; the reference below is the definition it replaced, one task and edge at a
time. Random programs: up to 10 tasks in nested scopes (rings 0 to 3, manual and auto),
making outputs that later tasks of still-open scopes read, updating entry tensors through
overlapping views (TensorMap edges), with random explicit deps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pto_dsl.diagnostics import CompileError, render_text
from pto_dsl.dialects import DEFAULT_RUNTIME
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.safety import redundancy
from pto_dsl.safety.retention import NONE_HELD, RINGS, ScopeTest, oldest_held
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
RETAINING = (frozenset({"explicit", "creator"}), frozenset({"explicit"}),
             frozenset({"explicit", "creator", "tensormap"}))
SIZE = 8


def reference_oldest_held(graph: TaskGraph, retaining: frozenset[str],
                          need_open: bool = True) -> list[list[int]]:
    """The definition: per consumer from last to first, the minimum over its successors'
    rows, lowered by each retaining fanin edge from a producer whose scope is open."""
    n = len(graph)
    held = [[NONE_HELD] * RINGS for _ in range(n)]
    succs = graph.fanout_lists()
    open_at = ScopeTest()
    for c in range(n - 1, -1, -1):
        mine = held[c]
        for s in succs[c]:
            for r in range(RINGS):
                mine[r] = min(mine[r], held[s][r])
        consumer = graph.task(c)
        for h in graph.fanin_lists()[c]:
            producer = graph.task(h)
            if h < mine[producer.ring] and \
                    any(o.value in retaining for o in graph.origins(h, c)) and \
                    (not need_open or open_at(producer, consumer)):
                mine[producer.ring] = h
    return held


@st.composite
def programs(draw: st.DrawFn) -> str:
    n_tasks = draw(st.integers(2, 10))
    made: list[tuple[int, tuple[int, ...]]] = []  # tasks with an output, and their scope
    count, scopes = [0], [0]

    def view() -> str:
        lo = draw(st.integers(0, SIZE - 1))
        return f"b{draw(st.integers(0, 1))}[{lo} : {draw(st.integers(lo + 1, SIZE))}]"

    def arg(path: tuple[int, ...]) -> str:
        usable = [t for t, p in made if path[:len(p)] == p]  # its scope is still open
        if usable and draw(st.booleans()):
            return f"t{draw(st.sampled_from(usable))}.o"
        return view()

    def task(path: tuple[int, ...]) -> str:
        k = count[0]
        count[0] += 1
        kind = draw(st.sampled_from(["MK", "UP", "RD"]))
        args = {"MK": [arg(path), "new f32[N]"], "UP": [view()],
                "RD": [arg(path), arg(path)]}[kind]
        deps = sorted(draw(st.sets(st.integers(0, k - 1), max_size=3))) if k else []
        if kind == "MK":
            made.append((k, path))
        dep = (" dep " + ", ".join(f"t{d}" for d in deps)) if deps else ""
        return f"t{k} = {kind}({', '.join(args)}){dep}"

    def block(path: tuple[int, ...]) -> list[str]:
        lines: list[str] = []
        while count[0] < n_tasks and (not lines or draw(st.integers(0, 3)) != 0):
            if len(path) < 4 and draw(st.integers(0, 2)) == 0:
                scopes[0] += 1
                mode = draw(st.sampled_from(["scope", "scope manual"]))
                inner = block((*path, scopes[0]))
                lines.append(f"{mode} {{\n" + "\n".join(inner) + "\n}")
            else:
                lines.append(task(path))
        return lines

    body = block(())
    while count[0] < n_tasks:
        body += block(())
    head = ["kernel MK aiv 0 (in a: f32[_], out o: f32[N])",
            "kernel UP aiv 1 (inout a: f32[_])",
            "kernel RD aiv 2 (in a: f32[_], in b: f32[_])",
            "entry e(inout b0: f32[N], inout b1: f32[N]) {"]
    lets = [f"let t{i} = none" for i in range(n_tasks)]
    return "\n".join(head + lets + body + ["}", f"default case c {{ N = {SIZE} }}"]) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.filter_too_much])
@given(programs())
def test_oldest_held_is_its_definition(text: str) -> None:
    try:
        checked = front_end(SourceFile("t.pto", text))
        graph = instantiate_case(checked, None)
    except CompileError:
        assume(False)  # a use the scope rules reject: not a graph to compare on
        raise
    for retaining in RETAINING:
        for need_open in (True, False):
            assert oldest_held(graph, retaining, need_open) == \
                reference_oldest_held(graph, retaining, need_open), text


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.pto")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_oldest_held_on_the_examples(path: Path) -> None:
    checked = front_end(read_source(path))
    if not checked.program.cases:
        return
    graph = instantiate_case(checked, None)
    retaining = graph.rules.retaining_origins
    assert oldest_held(graph, retaining) == reference_oldest_held(graph, retaining)


def test_a_derived_value_is_made_again_after_a_task_is_added() -> None:
    checked = front_end(SourceFile("t.pto", "kernel K aiv 0 (inout a: f32[N])\n"
                                   "entry e(inout b: f32[N]) {\n K(b)\n K(b)\n}\n"
                                   "default case c { N = 4 }\n"))
    graph = instantiate_case(checked, None)
    calls: list[int] = []
    assert graph.derived("k", lambda: calls.append(len(graph)) or len(calls)) == 1
    assert graph.derived("k", lambda: calls.append(len(graph)) or len(calls)) == 1
    graph.add_task(graph.task(1), {})
    assert graph.derived("k", lambda: calls.append(len(graph)) or len(calls)) == 2


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.filter_too_much])
@given(programs(), st.integers(1, 3))
def test_redundancy_examines_an_item_until_an_instance_needs_it(text: str, rounds: int) -> None:
    """The redundancy check stops examining a dep item's instances at the first that needs
    its edge: the same findings as examining every instance (the program's body runs
    `rounds` times, so items have several instances)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("let t"))
    end = len(lines) - 2  # the entry's closing brace, then the case
    looped = lines[:start] + [f"for r in 0 .. {rounds} {{"] + \
        [line for line in lines[start:end] if not line.startswith("let t")] + ["}"] + \
        lines[end:]
    looped[start:start] = [line for line in lines[start:end] if line.startswith("let t")]
    try:
        checked = front_end(SourceFile("t.pto", "\n".join(looped) + "\n"))
        graph = instantiate_case(checked, None)
    except CompileError:
        assume(False)
        raise
    fast = redundancy.check(checked.program, graph, DEFAULT_RUNTIME)
    full = redundancy.check(checked.program, graph, DEFAULT_RUNTIME, exhaustive=True)
    assert len(fast) == len(full)
    assert render_text(fast) == render_text(full), looped
