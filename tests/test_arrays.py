"""Task-id arrays and fatal reports: the task graph, the checks, the C++ of both dialects
(with g++), the recorder's replay of that C++, and the simulator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_compile_support import GXX, assert_both_dialects_agree, compile_file

from pto_dsl import pipeline, record
from pto_dsl.codegen.cpp import generate
from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import DIALECTS
from pto_dsl.graph import Origin
from pto_dsl.lsp.index import build_index
from pto_dsl.pipeline import case_values, check_graph, front_end, instantiate_case, read_source
from pto_dsl.record.compare import differences
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile
from tests.helpers import checked, graph

ROOT = Path(__file__).resolve().parent.parent
CONSTRUCT = ROOT / "tests" / "compile" / "task_arrays.pto"

FAN_IN = """
kernel P aiv 0 (inout y: f32[4])
kernel C aiv 1 (in x: f32[N], out y: f32[N])

entry e(inout x: f32[N], out r: f32[N], n: i32) {
    if n < 1 or n > 8 {
        fatal INVALID_ARGS "n must be in 1..8"
    }
    scope manual {
        let ids = tasks[8]
        for i in 0 .. n {
            ids[i] = P(x[i * 4 : i * 4 + 4])
        }
        C(x, r) dep ids[:LAST]
    }
}

default case c { N = 32, n = 6 }
case too_many { N = 32, n = 9 }
"""


def _program(last: str = "n") -> str:
    return FAN_IN.replace("LAST", last)


def test_each_element_is_one_explicit_edge() -> None:
    g = graph(_program())
    assert [t.kernel for t in g.tasks()] == ["P"] * 6 + ["C"]
    assert {(p, c): set(o) for p, c, o in g.edges()} == {
        (i, 6): {Origin.EXPLICIT} for i in range(6)}
    assert [t.element for t in g.tasks()] == [("ids", i) for i in range(6)] + [None]


def test_a_missing_element_dep_is_a_race_naming_the_element() -> None:
    text = _program("n - 1")
    with pytest.raises(CompileError) as err:
        check_graph(checked(text), graph(text))
    (race,) = err.value.diagnostics
    assert race.code == "E201"
    assert "(element 5 of task-id array 'ids')" in race.message
    assert any('"dep ids[5]"' in h for h in race.help)


def test_reaching_a_fatal_report_fails_the_case() -> None:
    with pytest.raises(CompileError) as err:
        graph(_program(), "too_many")
    (diag,) = err.value.diagnostics
    assert diag.code == "E186"
    assert diag.message.endswith("code 5 (INVALID_ARGS): n must be in 1..8")
    assert diag.span is not None and diag.span.line == 7


@pytest.mark.parametrize(("dep", "code", "where"), [
    ("ids", "E185", "element 6 of 'ids'"),                  # elements 6, 7 never assigned
    ("ids[n]", "E185", "element 6 of 'ids'"),
    ("ids[n + 2]", "E172", "index 8 is out of bounds for 'ids'"),
    ("ids[2:n + 3]", "E172", "the slice 2:9 is out of bounds"),
    ("ids[n:2]", "E172", "the slice 6:2 is out of bounds"),
])
def test_elements_are_checked_per_case(dep: str, code: str, where: str) -> None:
    text = _program().replace("dep ids[:n]", f"dep {dep}")
    with pytest.raises(CompileError) as err:
        graph(text)
    (diag,) = err.value.diagnostics
    assert diag.code == code and where in diag.message, diag.message


def _codes(body: str) -> list[str]:
    text = ("kernel P aiv 0 (inout x: f32[N])\nentry e(inout x: f32[N], n: i32) {\n"
            f"{body}\n}}\ncase c {{ N = 4, n = 2 }}\n")
    with pytest.raises(CompileError) as err:
        checked(text)
    return [d.code for d in err.value.diagnostics]


def test_static_mistakes() -> None:
    assert _codes("let ids = tasks[n]") == ["E136"]
    assert _codes("let ids = tasks[0]") == ["E136"]
    assert _codes("let ids = tasks[65537]") == ["E136"]
    assert _codes("let ids = tasks[2]\nids[2] = P(x)") == ["E172"]
    assert _codes("let ids = tasks[2]\nids[-1] = P(x)") == ["E172"]
    assert _codes("let ids = tasks[2]\nP(x) dep ids[1:3]") == ["E172"]
    assert _codes("let ids = tasks[2]\nP(x) dep ids[2:1]") == ["E172"]
    assert _codes("let ids = tasks[2]\nids = P(x)") == ["E111"]
    assert _codes("let ids = tasks[2]\nids[0] = 1.5") == ["E136"]
    assert _codes("let ids = tasks[2]\nlet t = P(x)\nids[2] = t") == ["E172"]
    assert _codes("let ids = tasks[2]\nlet t = P(x)\nids[0] = t dep t") == ["E115"]
    assert _codes("let ids = tasks[2]\nP(ids)") == ["E106"]
    assert _codes("let ids = tasks[2]\nlet k = ids[0]") == ["E109"]
    assert _codes("let t = P(x)\nt[0] = P(x)") == ["E109"]
    assert _codes("let t = P(x)\nP(x) dep t[0]") == ["E130"]
    assert _codes("P(x) dep tasks[2]") == ["E011"]
    assert _codes('fatal NOT_A_CODE "x"') == ["E010"]


def test_v0_counts_an_arrays_elements_against_its_16_deps() -> None:
    text = _program().replace("tasks[8]", "tasks[17]")
    front_end(SourceFile("t.pto", text), DIALECTS["current"])
    with pytest.raises(CompileError) as err:
        front_end(SourceFile("t.pto", text), DIALECTS["v0"])
    assert [d.code for d in err.value.diagnostics] == ["E151"]
    front_end(SourceFile("t.pto", text.replace("dep ids[:n]", "dep ids[:16]")),
              DIALECTS["v0"])


def test_current_dialect_uses_the_runtime_array_form() -> None:
    text = compile_file(CONSTRUCT, "current")
    assert "PTO2TaskId ids[6];" in text and "std::fill_n(ids, 6, PTO2TaskId::invalid());" in text
    assert "ids[i] = rt_submit_aic_task(FUNC_P, ids_args).task_id();" in text
    assert "first_args.set_dependencies(ids, static_cast<uint32_t>(n));" in text
    assert "last[0] = first.task_id();" in text
    assert "c_args.set_dependencies(last, 3);" in text
    assert 'rt_report_fatal(PTO2_ERROR_INVALID_ARGS, "%s", "n must be in 2..6, or 100% wrong");' \
        "\n        return;" in text
    assert "add_dep" not in text


def test_v0_dialect_adds_each_element() -> None:
    text = compile_file(CONSTRUCT, "v0")
    assert "for (int64_t ids_i = 0; ids_i < n; ++ids_i) {\n" \
           "            first_args.add_dep(ids[ids_i]);" in text
    assert "pto2_rt_report_fatal(PTO2_ERROR_INVALID_ARGS," in text
    assert "set_dependencies" not in text


@pytest.mark.skipif(GXX is None, reason="g++ is not installed: the C++ syntax check needs it")
@pytest.mark.parametrize("dialect", ["current", "v0"])
def test_both_dialects_compile_and_record_the_same_graph(dialect: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert_both_dialects_agree(CONSTRUCT, dialect, tmp_path)


def test_simulator_waits_for_every_element() -> None:
    c = checked(_program().replace("kernel P aiv 0 (inout y: f32[4])",
                                   "kernel P aiv 0 (inout y: f32[4]) cost 10000"))
    result = simulate(c, None, SimOptions(numerics=False))
    rows = {r.seq: r for r in result.schedule()}
    assert len(rows) == 7
    assert rows[6].start_us >= max(rows[i].end_us for i in range(6))


def _sim_error(text: str, case: str | None = None) -> str:
    c = checked(text)
    with pytest.raises(CompileError) as err:
        simulate(c, case, SimOptions(numerics=False))
    (diag,) = err.value.diagnostics
    assert diag.code == "E501"
    return diag.message


def test_simulator_stops_at_a_fatal_report_like_the_runtime() -> None:
    message = _sim_error(_program(), "too_many")
    assert message == "the runtime stops: FATAL(code=5 INVALID_ARGS): n must be in 1..8"


def test_simulator_rejects_an_unassigned_element_like_the_runtime() -> None:
    message = _sim_error(_program().replace("dep ids[:n]", "dep ids"))
    assert "FATAL(code=5 INVALID_ARGS)" in message and "valid task id" in message


COPIES = """
kernel P aiv 0 (inout y: f32[4])
kernel C aiv 1 (in x: f32[N], out y: f32[N])

entry e(inout x: f32[N], out r: f32[N]) {
    scope manual {
        let ids = tasks[4]
        let wide = P(x[0:4])
        for i in 0 .. 3 {
            ids[i] = wide
        }
        ids[3] = P(x[4:8])
        C(x, r) dep ids
    }
}

default case c { N = 8 }
"""


def test_a_copied_id_is_named_once_per_element_as_the_cpp_does() -> None:
    g = graph(COPIES)
    assert [t.kernel for t in g.tasks()] == ["P", "P", "C"]
    assert g.task(2).explicit_deps == (0, 0, 0, 1)
    assert g.task(0).element is None and g.task(1).element == ("ids", 3)
    assert set(g.producers(2)) == {0, 1}


def test_a_copied_none_is_an_unassigned_element() -> None:
    with pytest.raises(CompileError) as err:
        graph(COPIES.replace("ids[i] = wide", "ids[i] = none"))
    (diag,) = err.value.diagnostics
    assert diag.code == "E185" and "element 0" in diag.message


def test_copies_simulate_and_record_like_submissions(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    c = checked(COPIES)
    result = simulate(c, None, SimOptions(numerics=False))
    assert sum(result.runtime.task_counts.values()) == 3
    if shutil.which("g++") is None:
        return
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for dialect in ("current", "v0"):
        text = generate(c.program, dialect, "copies.pto")
        assert "ids[i] = wide" in text.replace(".task_id()", "")
        cpp = tmp_path / f"copies.{dialect}.cpp"
        cpp.write_text(text, encoding="utf-8")
        prepared = record.prepare(cpp, read_source(cpp), DIALECTS[dialect])
        recorded = record.record(prepared, c.program, case_values(c, "c"))
        assert differences(c.program, instantiate_case(c, "c"), recorded.graph) == []


def test_the_language_server_finds_the_copies() -> None:
    source = SourceFile("t.pto", COPIES)
    ast = pipeline.syntax_tree(source)
    program = pipeline.check_syntax_tree(ast, source, DIALECTS["current"]).program
    index = build_index(ast, program)
    found = index.at(COPIES.index("ids[i] = wide") + 1)
    assert found is not None and found.symbol.name == "ids"
    assert len(index.references(found.symbol)) == 4  # let, the copy, the submission, the dep
    wide = index.at(COPIES.index("= wide") + 3)
    assert wide is not None and wide.symbol.name == "wide"
