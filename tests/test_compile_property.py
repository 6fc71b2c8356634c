"""Property tests of pto-compile on random programs (the generator of test_fuzz.py, plus
expressions that tempt compilers to warn): the backend never crashes (it emits, or refuses
with one of its located diagnostics), the emitted deps are the instantiated graph's explicit
edges, and the C++ passes the g++ syntax check with every warning we know of an error."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from test_compile_graph import Interpreter, graph_tasks
from test_compile_support import DIALECT_NAMES, GXX, include_dir, syntax_check
from test_fuzz import STATEMENTS, random_program

from pto_dsl.codegen.cpp import generate, view_model
from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import Checked, front_end, instantiate_case
from pto_dsl.source import SourceFile

T = TypeVar("T")
RUNS = int(os.environ.get("PTO_FUZZ_EXAMPLES", "40"))
PROPERTY = settings(max_examples=RUNS, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
# Operands a C++ compiler can see through: the same expression twice, literals, a `let`
# constant (`n` is 2), differences that fold to zero; and the operators that warn on them
# (-Wtautological-compare, -Wdiv-by-zero, -Wbool-compare, -Wtype-limits, -Wsign-compare).
OPERAND = st.sampled_from(["N", "N", "n", "n - 2", "N - N", "0", "1", "2", "idx[1]",
                           "min(N, 3)", "cdiv(N, n)", "5000000000"])
WARNING_PRONE = st.one_of(
    st.builds("let @ = {} {} {}".format, OPERAND, st.sampled_from(
        ["<", "<=", ">", ">=", "==", "!=", "/", "%", "+", "-", "*"]), OPERAND),
    st.builds("if {0} {1} {0} {{\n}} else {{\n}}".format, OPERAND,
              st.sampled_from(["<", "<=", ">", ">=", "==", "!="])),
    st.builds("if {} {{\n}} else if {} {{\n}}".format, st.sampled_from(
        ["true", "false", "N > 2", "not (N > 2)", "true == true", "false != (N < 1)"]),
        st.sampled_from(["true", "N > 2", "n == 2"])),
    st.builds("let @ = K(x[0 : {}], new f32[N])".format, OPERAND),
)
PROGRAMS = st.lists(st.one_of(STATEMENTS, WARNING_PRONE), min_size=1, max_size=6)
# Beyond -Wall -Wextra -Werror: warnings that users who build with more flags would see.
MORE_WARNINGS = ["-Wshadow", "-Wconversion", "-Wpedantic", "-Wlogical-op", "-Wduplicated-cond",
                 "-Wtautological-compare", "-Wtype-limits", "-Wsign-compare", "-Wunused"]


def _front_end(text: str, dialect: str) -> Checked | None:
    try:
        return front_end(SourceFile("fuzz.pto", text), DIALECTS[dialect])
    except CompileError:
        return None


def _refused(exc: CompileError) -> bool:
    return all(d.code.startswith("E40") and d.span is not None for d in exc.diagnostics)


def _each_dialect(text: str, build: Callable[[Checked, str], T]
                  ) -> Iterator[tuple[str, Checked, T]]:
    """The dialects whose front end accepts the program and whose backend builds it; a
    backend may refuse a program only with located E40x errors."""
    for dialect in DIALECT_NAMES:
        checked = _front_end(text, dialect)
        if checked is None:
            continue
        try:
            built = build(checked, dialect)
        except CompileError as exc:
            assert _refused(exc), exc.diagnostics
            continue
        yield dialect, checked, built


@PROPERTY
@given(PROGRAMS)
@example(["let a = 0", "for i in 0 .. 1 {\nt = t\n}"])  # a self-assignment is a comment
def test_random_programs_emit_their_graph(statements: list[str]) -> None:
    text = random_program(statements)
    compared = 0
    for _, checked, model in _each_dialect(
            text, lambda c, dialect: view_model(c.program, dialect, "fuzz.pto")):
        try:
            graph = instantiate_case(checked, "c")
        except CompileError:
            continue  # a value error of this case: nothing to compare
        assert Interpreter(model, checked, "c").run() == graph_tasks(graph), text
        compared += 1
    event(f"compared in {compared} dialects")


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
@settings(max_examples=int(os.environ.get("PTO_FUZZ_COMPILE_EXAMPLES", "8")), deadline=None,
          database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(statements=PROGRAMS)
@example(statements=["if N < N {\n} else {\n}"])  # once failed -Wtautological-compare
@example(statements=["let a = 1 / (n - 2)", "let b = N % (N - N)"])  # -Wdiv-by-zero
@example(statements=["if N > 2 {\n} else if N > 2 {\n}"])  # -Wduplicated-cond
@example(statements=["t = t"])  # the only use of t, and it is a comment: -Wunused
@example(statements=["let a = idx[1] < 5000000000", "let b = K(x[0 : 5000000000], y)"])
@example(statements=["let v1 = K(x, new f32[N]) blocks idx[1]"])  # a tensor read only in `blocks`
def test_random_programs_compile(statements: list[str], tmp_path: Path) -> None:
    text = random_program(statements)
    for dialect, _, cpp in _each_dialect(
            text, lambda c, dialect: generate(c.program, dialect, "fuzz.pto")):
        source = tmp_path / f"fuzz.{dialect}.cpp"
        source.write_text(cpp, encoding="utf-8")
        result = syntax_check([source], include_dir(tmp_path / dialect, dialect),
                              MORE_WARNINGS)
        assert result.returncode == 0, f"{text}\n{cpp}\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("statement, emitted", [
    ("let a = N < N", "const bool a = false;"),
    ("let a = n - 1 >= n - 1", "const bool a = true;"),
    ("let a = 3 != 2", "const bool a = true;"),
    ("let a = (N > 1) == (N > 1)", "const bool a = true;"),
    ("let a = N / (n - 2)", "const int64_t a = pto_div(N, n - 2);"),
    ("let a = N % n", "const int64_t a = pto_mod(N, n);"),
    ("let a = N / 2", "const int64_t a = N / 2;"),
    ("let f = 1.5\nlet a = f == f", "const bool a = f == f;"),  # NaN != NaN: kept
    ("if N > 2 {\n} else if N > 2 {\n}", "} else if (false) {"),
    ("u = u", "// u = u: no effect"),  # clang: -Wself-assign
])
def test_statically_known_values_are_written_as_values(statement: str, emitted: str) -> None:
    """What compilers would warn about is folded (without g++, unlike the property test)."""
    cpp = generate(front_end(SourceFile("fuzz.pto", random_program([statement])),
                             DIALECTS["current"]).program, "current", "fuzz.pto")
    assert emitted in cpp, cpp
