"""Integers accumulated in loops: `let n = 0` then `n = EXPR` through the lowering (which
values may be reassigned), instantiation (int64 semantics), the simulator, the C++ of both
dialects (tests/compile/ints.pto has goldens and the interpreter check of
test_compile_graph) and the language server's index."""

from __future__ import annotations

import pytest
from test_compile_support import compile_text

from pto_dsl import pipeline
from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import DIALECTS
from pto_dsl.lsp.index import build_index
from pto_dsl.pipeline import front_end
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile
from tests.helpers import checked, graph

RUNNING_MAX = """
kernel K aiv 0 (in x: f32[N], n: i64)

entry acc(in x: f32[N], in lens: i32[B]) {
    let most = 0
    let total = 0
    for b in 0 .. B {
        most = max(most, cdiv(lens[b], 16))
        total = total + lens[b]
    }
    for i in 0 .. most {
        K(x, total - i)
    }
}

default case c { N = 4, B = 3, lens = [33, 100, 17] }
case none_long { N = 4, B = 2, lens = [1, 16] }
"""


def test_the_accumulated_values_drive_the_graph() -> None:
    g = graph(RUNNING_MAX)
    assert [t.scalars for t in g.tasks()] == [(150 - i,) for i in range(7)]  # cdiv(100, 16)
    assert len(graph(RUNNING_MAX, "none_long")) == 1


def test_the_simulator_runs_the_same_tasks() -> None:
    result = simulate(front_end(SourceFile("t.pto", RUNNING_MAX)), None,
                      SimOptions(numerics=False))
    assert sum(result.runtime.task_counts.values()) == 7


def test_the_cpp_assigns_a_non_const_variable() -> None:
    for dialect in DIALECTS:
        text = compile_text("acc", RUNNING_MAX, dialect)
        assert "    int64_t most = 0;" in text and "const int64_t most" not in text
        assert "most = std::max<int64_t>(most, " in text


def _codes(body: str) -> list[str]:
    text = ("kernel K aiv 0 (in a: f32[N])\n"
            f"entry e(in x: f32[N], s: f32, k: i32) {{\n{body}\n}}\ncase c {{ N = 4, k = 1 }}\n")
    with pytest.raises(CompileError) as err:
        checked(text)
    return [d.code for d in err.value.diagnostics]


def test_what_cannot_be_reassigned() -> None:
    assert _codes("let f = 0.5\nf = 1.0") == ["E111"]  # a float
    assert _codes("let c = true\nc = false") == ["E111"]  # a bool
    assert _codes("k = 2") == ["E111"]  # an entry scalar
    assert _codes("N = 2") == ["E111"]  # a shape symbol
    assert _codes("for i in 0 .. 2 {\ni = 3\n}") == ["E111"]  # a loop variable
    assert _codes("let n = 0\nn = K(x)") == ["E111"]  # a task
    assert _codes("let n = 0\nn = s") == ["E112"]  # a float value
    assert _codes("let n = 0\nn = 1 dep n") == ["E115"]
    assert _codes("let n = 9223372036854775807\nn = 9223372036854775807 + 1") == ["E122"]


def test_an_overflowing_accumulation_fails_at_instantiation() -> None:
    text = RUNNING_MAX.replace("total = total + lens[b]", "total = total * 4611686018427387904")
    with pytest.raises(CompileError) as err:
        graph(text.replace("let total = 0", "let total = 3"))
    assert [d.code for d in err.value.diagnostics] == ["E170"]


def test_the_language_server_indexes_the_assignments() -> None:
    source = SourceFile("t.pto", RUNNING_MAX)
    ast = pipeline.syntax_tree(source)
    program = pipeline.check_syntax_tree(ast, source, DIALECTS["current"]).program
    index = build_index(ast, program)
    offset = RUNNING_MAX.index("most = max") + 1
    found = index.at(offset)
    assert found is not None and found.symbol.kind == "let" and found.symbol.name == "most"
    assert len(index.references(found.symbol)) == 4  # let, assignment, two reads
