"""The simulator's lowering as generated Python (`pto_dsl.sim.lowering_gen`) makes exactly
the runtime calls the lowering's closures make, and fails with exactly their errors.

Compared: every call on the runtime model's API with its arguments (the Arg builder's
fields, the tensors, the tags), the schedule and the stats pto-run writes, the outputs with
numerics, or the rendered errors. On every example and case (but paged attention's
full-size ones), the tests/bad programs that get to simulation, and random programs (the
fuzz tests' statements).
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
from pto_dsl.pipeline import Checked, front_end, read_source, syntax_tree
from pto_dsl.sim.api import Arg
from pto_dsl.sim.lowering import Lowering
from pto_dsl.sim.report import stats, to_json
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.sim.runtime import Runtime
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FULL_SIZE = ("Case1", "Case2")  # paged attention's: too slow for this comparison
CALLS = ("submit_task", "submit_dummy_task", "alloc_tensors", "scope_begin", "scope_end",
         "get_tensor_data", "set_tensor_data", "report_fatal", "begin", "finish")


def _plain(value: Any) -> Any:
    """An argument of a runtime call as a comparable value (an Arg by its fields)."""
    if isinstance(value, Arg):
        return tuple(_plain(getattr(value, k)) for k in Arg.__slots__)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return [_plain(v) for v in value]
    return value


def outcome(checked: Checked, case: str | None, generated: bool, numerics: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The runtime calls and what the run shows, or the rendered errors, with one path or
    the other."""
    calls: list[Any] = []
    with monkeypatch.context() as m:
        m.setattr(Lowering, "generated", generated)
        for name in CALLS:
            m.setattr(Runtime, name, _recording(getattr(Runtime, name), name, calls))
        try:
            result = simulate(checked, case, SimOptions(numerics=numerics))
        except CompileError as exc:
            return "errors", (calls, render_text(exc.diagnostics))
    rt = result.runtime
    return "run", (calls, [(s.seq, s.core, s.start, s.end) for s in rt.sched.schedule or ()],
                   to_json(stats(result)),
                   {k: v.tobytes() for k, v in result.outputs.items()})


def _recording(method: Any, name: str, calls: list[Any]) -> Any:
    def call(self: Runtime, *args: Any, **kwargs: Any) -> Any:
        calls.append((name, _plain(args), _plain(kwargs)))
        return method(self, *args, **kwargs)
    return call


def assert_same(checked: Checked, case: str | None, monkeypatch: pytest.MonkeyPatch,
                numerics: bool = False) -> str:
    general = outcome(checked, case, False, numerics, monkeypatch)
    assert outcome(checked, case, True, numerics, monkeypatch) == general
    return general[0]


def example_cases() -> Iterator[Any]:
    for path in sorted((ROOT / "examples").rglob("*.pto")):
        for case in syntax_tree(read_source(path, path.name)).cases:
            name = case.name.name
            if path.parent.name != "paged_attention" or name not in FULL_SIZE:
                yield pytest.param(path, name, id=f"{path.relative_to(ROOT)}:{name}")


@pytest.mark.parametrize(("path", "case"), list(example_cases()))
def test_every_example_and_case(path: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(front_end(read_source(path)), case, monkeypatch)


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.pto")),
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_every_example_with_numerics(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its default case (the others are slow to compute): reads see computed data."""
    assert_same(front_end(read_source(path)), None, monkeypatch, numerics=True)


def test_bad_programs_fail_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests/bad programs whose front end passes: the same simulation errors (or run)."""
    kinds = []
    for path in sorted((ROOT / "tests" / "bad").glob("*.pto")):
        try:
            checked = front_end(read_source(path, path.name))
        except CompileError:
            continue
        for case in checked.program.cases:
            kinds.append(assert_same(checked, case.name.name, monkeypatch))
    assert kinds.count("errors") >= 20 and kinds.count("run") >= 20, kinds


# a read of an entry tensor that a task of a loop writes (by a view, by the whole tensor):
# without numerics, an error (the lowering marks what tasks write)
WRITTEN = """\
kernel W aiv 0 (inout a: f32[M])
entry e(inout x: f32[N], inout y: f32[N]) {
    for i in 0 .. 2 {
        W(x[i : i + 1])
        W(y)
    }
    let v = VAR[0]
}
default case c { N = 4 }
"""


@pytest.mark.parametrize("var", ["x", "y"])
def test_reads_of_written_entry_tensors(var: str, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = front_end(SourceFile("written.pto", WRITTEN.replace("VAR", var)))
    assert assert_same(checked, None, monkeypatch) == "errors"


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(STATEMENTS, min_size=1, max_size=6))
@example(["for i in 0 .. 2 {\nlet a = K(x[i : i + 3], new f32[N])\n}"])  # a dims mismatch
@example(["for i in 0 .. 2 {\nlet a = K(x, new f32[N - 4])\n}"])  # an empty output
@example(["for i in 0 .. 2 {\nscope manual {\nlet a = K(x, new f32[N]) dep t, u\n}\n}"])
@example(["for i in 0 .. 2 {\nlet a = K(y[i : i + 1], new f32[1]) blocks 2 early\n"
          "let b = K(a.b, new f32[1]) blocks 70000\n}"])  # a launch the runtime rejects
def test_random_programs(statements: list[str]) -> None:
    text = random_program(statements)
    try:
        checked = front_end(SourceFile("fuzz.pto", text))
    except CompileError:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(checked, "c", monkeypatch)


def test_the_loops_submissions_are_written_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paged attention's loop body is generated Python, its submissions and scope included
    (not the closures this file compares it with)."""
    sources: list[str] = []
    compiled = instantiate_gen._compiled
    monkeypatch.setattr(instantiate_gen, "_compiled",
                        lambda source, name: sources.append(source) or compiled(source, name))
    path = ROOT / "examples" / "paged_attention" / "manual.pto"
    simulate(front_end(read_source(path)), "CaseSmall1", SimOptions(numerics=False))
    (source,) = sources
    assert source.count("rt.submit_task(") == 4 and "rt.scope_begin(" in source
