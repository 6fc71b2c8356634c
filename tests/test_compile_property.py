"""Property tests of pto-compile on random programs (the generator of test_fuzz.py): the
backend never crashes (it emits, or refuses with one of its located diagnostics), the
emitted deps are the instantiated graph's explicit edges, and the C++ passes the g++
syntax check."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
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
PROGRAMS = st.lists(STATEMENTS, min_size=1, max_size=6)


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
def test_random_programs_compile(statements: list[str], tmp_path: Path) -> None:
    text = random_program(statements)
    for dialect, _, cpp in _each_dialect(
            text, lambda c, dialect: generate(c.program, dialect, "fuzz.pto")):
        source = tmp_path / f"fuzz.{dialect}.cpp"
        source.write_text(cpp, encoding="utf-8")
        result = syntax_check([source], include_dir(tmp_path / dialect, dialect))
        assert result.returncode == 0, f"{text}\n{cpp}\n{result.stderr[-3000:]}"
