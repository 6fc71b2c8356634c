"""The generated instantiation (`pto_dsl.instantiate_gen`) builds exactly the graph the
closures of `Instantiator.stmt` build, and fails with exactly their errors.

Compared field by field: every task (accesses, scalars, scope, ring, instance, deps, ...),
every edge with its origins in order, buffers, scope instances, orchestration reads and
writes with their waits, the deps.json record counts and the TensorMap counters. On every
example and case, every bad program of tests/bad that gets to instantiation, and random
programs (the fuzz tests' statements).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_fuzz import STATEMENTS, random_program

from pto_dsl import instantiate_gen
from pto_dsl.diagnostics import CompileError, render_text
from pto_dsl.graph import TaskGraph
from pto_dsl.instantiate import Instantiator, Limits, instantiate
from pto_dsl.pipeline import Checked, case_values, front_end, read_source, syntax_tree
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
# cases past this many tasks are compared up to the limit (E176 there, in both paths)
MAX_TASKS = 12_000


def state(graph: TaskGraph) -> dict[str, Any]:
    """Everything a graph holds, as plain values."""
    tasks = [(t.id, t.site, t.kernel, t.core, t.func_id, t.scope.id if t.scope else None,
              t.in_manual, t.ring, t.accesses, t.scalars, t.instance,
              (t.span.start, t.span.end), t.explicit_deps, t.dep_items, t.blocks,
              t.sync_start, t.element, t.early_resolve, t.predicate) for t in graph.tasks()]
    return {
        "tasks": tasks,
        "fanin": [list(f.items()) for f in graph.fanin_origins()],
        "buffers": list(graph.buffers),
        "scopes": [(s.id, s.decl.id, s.parent.id if s.parent else None, s.instance)
                   for s in graph.scopes],
        "host": [((h.span.start, h.span.end), h.access, h.after_tasks, h.waited, h.write)
                 for h in graph.host_reads],
        "records": dict(graph.records),
        "tensormap": (graph.tensormap_lookups, graph.tensormap_inserts)}


def outcome(checked: Checked, case: str | None, generated: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The graph's state, or the rendered errors, with one path or the other."""
    monkeypatch.setattr(Instantiator, "generated", generated)
    try:
        values = case_values(checked, case)
        graph = instantiate(checked.program, values, rules=checked.dialect.rules,
                            limits=Limits(MAX_TASKS))
    except CompileError as exc:
        return "errors", render_text(exc.diagnostics)
    return "graph", state(graph)


def assert_same(checked: Checked, case: str | None, monkeypatch: pytest.MonkeyPatch) -> str:
    general = outcome(checked, case, False, monkeypatch)
    assert outcome(checked, case, True, monkeypatch) == general
    return general[0]


def example_cases() -> Iterator[Any]:
    for path in sorted((ROOT / "examples").rglob("*.pto")):
        for case in syntax_tree(read_source(path, path.name)).cases:
            name = case.name.name
            yield pytest.param(path, name, id=f"{path.relative_to(ROOT)}:{name}")


@pytest.mark.parametrize(("path", "case"), list(example_cases()))
def test_every_example_and_case(path: Path, case: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    checked = front_end(read_source(path))
    assert_same(checked, case, monkeypatch)


def test_bad_programs_fail_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests/bad programs whose front end passes: the same instantiation errors (or
    graph, when their error is a graph check's)."""
    kinds = []
    for path in sorted((ROOT / "tests" / "bad").glob("*.pto")):
        try:
            checked = front_end(read_source(path, path.name))
        except CompileError:
            continue
        for case in checked.program.cases:
            kinds.append(assert_same(checked, case.name.name, monkeypatch))
    assert kinds.count("errors") >= 20 and kinds.count("graph") >= 20, kinds


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(STATEMENTS, min_size=1, max_size=6))
@example(["let a = 9223372036854775807 + n"])  # overflow of a generated addition
@example(["let a = 9223372036854775805 + n", "let b = -9223372036854775806 - n"])  # the bounds
@example(["let a = x[0 : N + 1]"])  # a view out of bounds
@example(["for i in 0 .. N step 2 {\nlet a = K(x[i : i + 1], new f32[1])\n}",
          "for i in 0 .. N step n - 3 {\n}"])  # a step, then a step that is not positive
@example(["let a = -n", "let b = n < 1 or N > 2", "let c = not (n == 2) and -N < 0"])
@example(["let v = K(x, y)", "let a = y[1]", "let b = a + 1", "if b > 0 {\n}"])  # computed
@example(["let a = idx[N]", "let b = reshape(x, [N])[1 : 3]"])  # an index out of bounds
def test_random_programs(statements: list[str]) -> None:
    text = random_program(statements)
    try:
        checked = front_end(SourceFile("fuzz.pto", text))
    except CompileError:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(checked, "c", monkeypatch)


def test_a_subclass_keeps_its_own_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """An Instantiator subclass that compiles submissions and scopes itself (as the
    simulator's lowering does) gets them through its `stmt` from the generated code."""
    seen: list[str] = []

    class Counting(Instantiator):
        def stmt(self, s: Any) -> Any:
            seen.append(type(s).__name__)
            return super().stmt(s)

    path = ROOT / "examples" / "paged_attention" / "manual.pto"
    checked = front_end(read_source(path))
    values = case_values(checked, "CaseSmall1")
    graph = Counting(checked.program, values, checked.dialect.rules).run()
    assert {"Submit", "ScopeStmt", "AllocStmt"} <= set(seen)
    assert state(graph) == outcome(checked, "CaseSmall1", False, monkeypatch)[1]


def test_a_long_loop_body_runs_its_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `MAX_LOOP_SOURCE` a loop is not written out (compiling it could cost more than
    it saves): it runs as a closure whose body is a generated function of its own, in which
    the inner loop is written out; the graph is the same either way."""
    body = "\n".join(["for i in 0 .. 2 {", "for j in 0 .. 2 {", "K(x[j : j + 1], new f32[1])",
                      "}", *["K(x, new f32[N])"] * 30, "}"])
    checked = front_end(SourceFile("long.pto", random_program([body])))
    monkeypatch.setattr(instantiate_gen, "MAX_LOOP_SOURCE", 3000)
    sources: list[str] = []
    compiled = instantiate_gen._compiled
    monkeypatch.setattr(instantiate_gen, "_compiled",
                        lambda source, name: sources.append(source) or compiled(source, name))
    assert_same(checked, "c", monkeypatch)
    loops = [[line for line in source.splitlines() if " in range(" in line]
             for source in sources]
    assert [len(found) for found in loops] == [1, 0], sources  # the inner loop; the entry
