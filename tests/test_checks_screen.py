"""Property: the bulk fast paths of the graph checks (pto_dsl.safety.columns, .screen)
find what the general paths find.

The race check's screen passes over every buffer, and every chain of a buffer used in
disjoint regions, whose uses it finds ordered in bulk; `races.unordered(screened=False)`
searches them all. Both must call back with the same hazards in the same order, on the
random programs of the other property tests and on loops whose bodies use rows of a
buffer, in manual and auto scopes, with random deps on this and the previous iteration.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from helpers import checked
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_checks_fast import RETAINING
from test_checks_fast import programs as scoped_programs
from test_race_property import programs_with_accesses

from pto_dsl.diagnostics import CompileError, render_text
from pto_dsl.dialects import DEFAULT_RUNTIME, DIALECTS, Dialect, RuntimeConfig
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import Checked, front_end, instantiate_case, read_source
from pto_dsl.safety import capacity, columns, hazards, host_races, races, retention, screen
from pto_dsl.safety.hazards import Hazard
from pto_dsl.safety.held import RINGS, held_in_ring, oldest_held
from pto_dsl.safety.ordering import Ordering
from pto_dsl.safety.retention import ScopeTest
from pto_dsl.safety.screen import Screen
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 4
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@st.composite
def loops(draw: st.DrawFn) -> str:
    """A loop over `R` iterations whose body (in a scope, manual or auto, or none) updates
    and reads views of two buffers: a row of the iteration (`b0[i * 4 + a : i * 4 + c]`)
    or a fixed range, with element reads and writes of the orchestration between; deps
    name tasks of this iteration or, before they are submitted again, of the previous one."""
    rounds = draw(st.integers(1, 4))
    n_tasks = draw(st.integers(1, 5))

    def view() -> str:
        buf = draw(st.integers(0, 1))
        if draw(st.booleans()):
            lo = draw(st.integers(0, WIDTH - 1))
            hi = draw(st.integers(lo + 1, WIDTH))
            return f"b{buf}[i * {WIDTH} + {lo} : i * {WIDTH} + {hi}]"
        lo = draw(st.integers(0, rounds * WIDTH - 1))
        return f"b{buf}[{lo} : {draw(st.integers(lo + 1, rounds * WIDTH))}]"

    body = []
    for k in range(n_tasks):
        if draw(st.integers(0, 3)) == 0:  # an element access of the orchestration
            buf, at = draw(st.integers(0, 1)), draw(st.integers(0, WIDTH - 1))
            body.append(f"b{buf}[i * {WIDTH} + {at}] = 1.5" if draw(st.booleans()) else
                        f"let r{k} = b{buf}[i * {WIDTH} + {at}]")
        kernel = draw(st.sampled_from(["RD", "UP", "MIX"]))
        args = [view() for _ in range(1 if kernel != "MIX" else 2)]
        deps = sorted(draw(st.sets(st.integers(0, n_tasks - 1), max_size=2)))
        dep = (" dep " + ", ".join(f"t{d}" for d in deps)) if deps else ""
        body.append(f"t{k} = {kernel}({', '.join(args)}){dep}")
    mode = draw(st.sampled_from(["", "scope ", "scope manual "]))
    inner = "\n".join(body)
    loop_body = f"{mode}{{\n{inner}\n}}" if mode else inner
    return "\n".join([
        "kernel RD aiv 0 (in a: f32[_])",
        "kernel UP aiv 1 (inout a: f32[_])",
        "kernel MIX aiv 2 (in a: f32[_], inout b: f32[_])",
        "entry e(inout b0: f32[N], inout b1: f32[N]) {",
        *[f"let t{k} = none" for k in range(n_tasks)],
        f"for i in 0 .. {rounds} {{", loop_body, "}", "}",
        f"default case c {{ N = {rounds * WIDTH} }}", ""])


def _hazards(graph: TaskGraph, screened: bool) -> list[Hazard]:
    found: list[Hazard] = []
    races.unordered(graph, found.append, screened=screened)
    return found


def _compiled(text: str) -> tuple[Checked, TaskGraph]:
    try:
        c = checked(text)
        return c, instantiate_case(c, None)
    except CompileError:
        assume(False)  # a program the front end rejects: no graph to compare on
        raise


def _graph(text: str) -> TaskGraph:
    return _compiled(text)[1]


def _same_races(text: str) -> None:
    """The same hazards screened or not, and screened in chunks of a few uses (a buffer's
    uses are never split: a chunk holds whole buffers)."""
    graph = _graph(text)
    full = _hazards(graph, False)
    assert _hazards(graph, True) == full, text
    with mock.patch.object(screen, "CHUNK", 3):
        assert _hazards(graph, True) == full, text


@SETTINGS
@given(loops())
def test_screened_races_of_loops_over_rows(text: str) -> None:
    _same_races(text)


@SETTINGS
@given(programs_with_accesses())
def test_screened_races_with_orchestration_accesses(text: str) -> None:
    _same_races(text)


@SETTINGS
@given(scoped_programs())
def test_screened_races_with_outputs_in_nested_scopes(text: str) -> None:
    _same_races(text)


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.pto")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_screened_races_on_the_examples(path: Path) -> None:
    """Every case of up to 5,000 tasks (larger ones stop at the limit)."""
    for _, name, graph in _example_graphs(path):
        assert _hazards(graph, True) == _hazards(graph, False), name


def _example_graphs(path: Path) -> Iterator[tuple[Checked, str, TaskGraph]]:
    """Each case's graph, for the cases of up to 5,000 tasks."""
    c = front_end(read_source(path))
    for case in c.program.cases:
        try:
            yield c, case.name.name, instantiate_case(c, case.name.name, max_tasks=5000)
        except CompileError:
            continue


def test_the_screen_passes_over_ordered_buffers() -> None:
    """Paged attention (manual), four sequences: of its buffers only the output, whose rows
    the sequences update one after another, has unordered uses as one chain; as one chain
    per row, its uses are ordered too, so no buffer is searched."""
    c = front_end(read_source(ROOT / "examples/paged_attention/manual.pto"))
    graph = instantiate_case(c, "CaseVarSeq4")
    found = Screen(graph, Ordering(graph, waits=True))
    cols, groups = columns.access_columns(graph), columns.buffer_groups(graph)
    racy = found.unordered_chains(cols.writes[groups.order], cols.task[groups.order],
                                  groups.starts)
    assert {graph.buffers[int(groups.buffers[r])].name for r in racy} == {"out"}
    assert found.racy_runs() == []


def _same_retention(text: str) -> None:
    c, graph = _compiled(text)
    fast = retention.check(c.program, graph, DEFAULT_RUNTIME)
    full = retention.check(c.program, graph, DEFAULT_RUNTIME, screened=False)
    assert render_text(fast) == render_text(full), text
    assert [d.fixes for d in fast] == [d.fixes for d in full]


def _unheld(graph: TaskGraph) -> list[int]:
    """The definition: the tasks using another task's buffer whose creator's ring has
    no task held for them that is as old as the creator."""
    held = oldest_held(graph, graph.rules.retaining_origins)
    return sorted({t.id for t in graph.tasks() for acc in t.accesses
                   if acc.buffer.owner is not None and acc.buffer.owner != t.id
                   and held[t.id][graph.task(acc.buffer.owner).ring] > acc.buffer.owner})


@SETTINGS
@given(scoped_programs(), st.sampled_from(list(DIALECTS.values())))
def test_screened_retention_with_outputs_in_nested_scopes(text: str, dialect: Dialect) -> None:
    """Retention examines only the users the screen leaves: those whose use no retaining
    edge from the creator holds directly, and whose oldest_held row of the creator's ring
    is younger than the creator; exactly the users of the definition."""
    _same_retention(text)
    try:
        graph = instantiate_case(front_end(SourceFile("t.pto", text), dialect), None)
    except CompileError:
        assume(False)
        raise
    assert retention._unscreened(graph) == _unheld(graph), text
    for retaining in RETAINING:
        for need_open in (True, False):
            rows = oldest_held(graph, retaining, need_open)
            for ring in range(RINGS):
                assert held_in_ring(graph, retaining, ring, need_open).tolist() == \
                    [row[ring] for row in rows], text


@SETTINGS
@given(scoped_programs(), st.sampled_from(list(DIALECTS.values())))
def test_buffer_groups_are_the_uses_by_buffer(text: str, dialect: Dialect) -> None:
    """The columns group the data accesses as `hazards.by_buffer` does, and find each
    edge, its origins' retaining flag and the scope test as the graph and ScopeTest do."""
    try:
        graph = instantiate_case(front_end(SourceFile("t.pto", text), dialect), None)
    except CompileError:
        assume(False)
        raise
    groups = columns.buffer_groups(graph)
    expected = hazards.by_buffer(graph)
    assert {int(b): columns.uses_of(graph, groups.run(g))
            for g, b in enumerate(groups.buffers)} == expected
    n, keys = len(graph), columns.edge_keys(graph)
    retaining = graph.rules.retaining_origins
    flags = columns.retaining_edges(graph, retaining)
    edges = {(p, c): any(o.value in retaining for o in origins)
             for p, c, origins in graph.edges()}
    assert {(int(k % n), int(k // n)): bool(f) for k, f in zip(keys, flags)} == edges
    pairs = np.array([(p, c) for p in range(n) for c in range(n)], np.int64).reshape(-1, 2)
    found = columns.has_edges(keys, n, pairs[:, 0], pairs[:, 1])
    assert {(int(p), int(c)) for (p, c), f in zip(pairs, found) if f} == set(edges)
    scope_test = ScopeTest()
    opened = columns.open_at(graph, pairs[:, 0], pairs[:, 1])
    assert opened.tolist() == [scope_test(graph.task(int(p)), graph.task(int(c)))
                               for p, c in pairs]


@SETTINGS
@given(programs_with_accesses())
def test_host_races_pass_over_reads_of_buffers_no_task_writes(text: str) -> None:
    """An orchestration read of a buffer that no task writes conflicts with nothing: the
    host race check does not list its uses (the same findings as listing every one)."""
    c, graph = _compiled(text)
    fast = host_races.check(c.program, graph, DEFAULT_RUNTIME)
    every = host_races._Uses.of

    def of(uses: host_races._Uses, buffer_id: int, write: bool) -> object:
        return every(uses, buffer_id, True)
    with mock.patch.object(host_races._Uses, "of", of):
        full = host_races.check(c.program, graph, DEFAULT_RUNTIME)
    assert render_text(fast) == render_text(full), text


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.pto")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_screened_retention_on_the_examples(path: Path) -> None:
    for c, name, graph in _example_graphs(path):
        fast = retention.check(c.program, graph, DEFAULT_RUNTIME)
        full = retention.check(c.program, graph, DEFAULT_RUNTIME, screened=False)
        assert render_text(fast) == render_text(full), name


@SETTINGS
@given(scoped_programs(), st.sampled_from([4, 8, 16]))
def test_screened_capacity(text: str, window: int) -> None:
    """Capacity skips its per-scope count when no scope holds a window's tasks, and its
    shared-ring pass when no task of a scope is in ring 3 (small windows, so both find
    something in some programs)."""
    c, graph = _compiled(text)
    runtime = RuntimeConfig(window)
    fast = capacity.check(c.program, graph, runtime)
    full = capacity.check(c.program, graph, runtime, screened=False)
    assert render_text(fast) == render_text(full), text
