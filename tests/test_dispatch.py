"""Dispatch settings of a submission: early resolve (`early`) and dispatch predicates
(`predicate ELEMENT OP N`) through the task graph, the checks, the C++ of both dialects
(v0 has neither: E407, E408) and the simulator (staged blocks start by a doorbell when the
task is ready; a failing predicate retires the task without running its kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_compile_support import GOLDEN, GXX, compile_file, include_dir, syntax_check

from pto_dsl.codegen.cpp import generate
from pto_dsl.diagnostics import CompileError
from pto_dsl.pipeline import check_graph, front_end
from pto_dsl.sim.params import Params
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile
from tests.helpers import checked, graph

ROOT = Path(__file__).resolve().parent.parent
CURRENT_ONLY = ROOT / "tests" / "compile" / "current" / "dispatch.pto"

# The runtime's predicated_dispatch scene: a gate written by a task, a clobber of x that
# runs only if the gate is positive, and a copy of x[0] into y.
GATED = """
kernel WRITE_GATE aic 3 (inout gate: {gate}[1], value: i64) impl "k.py:write_gate"
kernel WRITE_CONST aic 0 (inout x: f32[M]) impl "k.py:write_const"
kernel CLOBBER aic 2 (inout x: f32[M]) impl "k.py:clobber"
kernel COPY_FIRST aic 1 (in x: f32[M], inout y: f32[M]) impl "k.py:copy_first"

entry gated(inout x: f32[M], inout y: f32[M], inout gate: {gate}[1], value: i64) {{
    let g = WRITE_GATE(gate, value)
    WRITE_CONST(x)
    CLOBBER(x) predicate gate[0] > 0 dep g
    COPY_FIRST(x, y)
}}

default case c {{ M = 16, value = 0 }}
"""

KERNELS = """
def write_gate(gate, value):
    gate[0] = value
def write_const(x):
    x[0] = 42.0
def clobber(x):
    x[0] = 999.0
def copy_first(x, y):
    y[0] = x[0]
"""


def test_the_predicate_is_a_read_that_takes_no_edge() -> None:
    g = graph(GATED.format(gate="i32"))
    clobber = g.task(2)
    assert clobber.predicate == (">", 0)
    assert clobber.accesses[-1].param == "predicate"
    assert clobber.accesses[-1].buffer.name == "gate"
    assert len(clobber.edge_accesses) == 1  # x only: the gate is not an argument
    # the only edge into the clobber is its dep: the runtime looks nothing up for the gate
    assert g.producers(2) == [0, 1] and set(g.origins(0, 2)) == {g.origins(0, 2)[0]}
    assert "if gate[0] > 0" in clobber.launch_text


def test_a_predicate_whose_writer_is_not_ordered_first_is_a_race() -> None:
    text = GATED.format(gate="i32").replace(" dep g", "")
    with pytest.raises(CompileError) as err:
        check_graph(checked(text), graph(text))
    found = err.value.diagnostics
    assert [d.code for d in found] == ["E201"]
    assert "'CLOBBER' reads 'predicate', which 'WRITE_GATE' writes" in found[0].message
    check_graph(checked(GATED.format(gate="i32")), graph(GATED.format(gate="i32")))


def test_a_predicate_on_a_fresh_output_needs_its_creator_held() -> None:
    text = """
kernel GATE aiv 0 (out count: i64[1])
kernel WORK aic 1 (inout y: f32[N])
entry e(inout y: f32[N]) {
    scope manual {
        let g = GATE(new i64[1])
        let w = WORK(y) dep g
        WORK(y) predicate g.count[0] > 0 dep w
    }
}
case c { N = 4 }
"""
    warnings = check_graph(checked(text), graph(text))
    assert [d.code for d in warnings] == ["W301"]
    assert "'WORK' uses 'predicate', created by 'GATE'" in warnings[0].message


def test_a_read_of_a_predicated_tasks_fresh_output_is_a_warning() -> None:
    text = """
kernel GATE aiv 0 (inout flag: i32[1])
kernel MAKE aic 1 (out y: f32[N], inout w: f32[N])
kernel USE aiv 2 (in y: f32[N], inout w: f32[N])
entry e(inout flag: i32[1], inout w: f32[N]) {
    let g = GATE(flag)
    for i in 0 .. 3 {
        let m = MAKE(new f32[N], w) predicate flag[0] != i dep g
        USE(m.y, w)
        USE(w, w)
    }
}
case c { N = 4 }
"""
    warnings = check_graph(checked(text), graph(text))
    assert [d.code for d in warnings] == ["W305"]  # not for w: it holds data either way
    assert "2 more instances" in warnings[0].notes[1].message
    plain = text.replace(" predicate flag[0] != i", "")
    assert check_graph(checked(plain), graph(plain)) == []


def test_early_changes_no_edge() -> None:
    text = GATED.format(gate="i32")
    flagged = text.replace("WRITE_CONST(x)", "WRITE_CONST(x) early")
    plain, early = graph(text), graph(flagged)
    assert list(plain.edges()) == list(early.edges())
    assert [t.early_resolve for t in early.tasks()] == [False, True, False, False]


def _codes(text: str) -> list[str]:
    with pytest.raises(CompileError) as err:
        checked(text)
    return [d.code for d in err.value.diagnostics]


def test_bad_dispatch_settings() -> None:
    entry = ("kernel K aiv 0 (inout x: f32[N])\n"
             "entry e(inout a: f32[N], in f: i32[2], in s: f32[1], n: i32) {{\n    {}\n}}\n")
    assert _codes(entry.format("let t = alloc(o: f32[2]) early")) == ["E134"]
    assert _codes(entry.format("dummy(inout a) predicate f[0] > 0")) == ["E134"]
    assert _codes(entry.format("let m = n early")) == ["E134"]
    assert _codes(entry.format("K(a) predicate n > 0")) == ["E135"]
    assert _codes(entry.format("K(a) predicate f[0]")) == ["E135"]
    assert _codes(entry.format("K(a) predicate s[0] > 0")) == ["E135"]
    assert _codes(entry.format("K(a) predicate f[0] > 0.5")) == ["E112"]
    assert _codes(entry.format("K(a) early blocks 2")) == ["E002"]
    assert _codes(entry.format("K(a) predicate f[0] > 0 early")) == ["E002"]


def test_current_dialect_golden_and_gxx(tmp_path: Path, update_golden: bool) -> None:
    text = compile_file(CURRENT_ONLY, "current")
    golden = GOLDEN / "current" / "dispatch.current.cpp"
    if update_golden:
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert text == golden.read_text(encoding="utf-8")
    assert text.count("set_allow_early_resolve(true)") == 3
    assert text.count(".set_predicate(") == 3
    assert "operand.tensor = &row;" in text and "PredicateOp::LE" in text
    if GXX is None:
        pytest.skip("g++ is not installed")
    out = tmp_path / "dispatch.current.cpp"
    out.write_text(text, encoding="utf-8")
    result = syntax_check([out], include_dir(tmp_path / "inc", "current"))
    assert result.returncode == 0, result.stderr[-4000:]


def test_v0_has_neither() -> None:
    with pytest.raises(CompileError) as err:
        compile_file(CURRENT_ONLY, "v0")
    found = sorted((d.span.line, d.code) for d in err.value.diagnostics)
    assert found == [(13, "E407"), (13, "E408"), (15, "E408"), (16, "E405"), (16, "E407"),
                     (17, "E407"), (17, "E408")]  # (and the dummy task: E405)


@pytest.mark.parametrize(("gate", "value", "y", "counts"), [
    ("i32", 0, 42.0, [0, 1]),  # predicate false: the clobber is skipped, y is x's 42
    ("i32", 1, 999.0, [1, 0]),  # true: the clobber runs
    ("u8", 255, 42.0, [0, 1]),  # the runtime sign-extends the element: 255 is -1
    ("i64", -5, 42.0, [0, 1]),
])
def test_simulator_evaluates_the_predicate_when_ready(tmp_path: Path, gate: str, value: int,
                                                      y: float, counts: list[int]) -> None:
    (tmp_path / "k.py").write_text(KERNELS, encoding="utf-8")
    path = tmp_path / "gated.pto"
    path.write_text(GATED.format(gate=gate), encoding="utf-8")
    (tmp_path / "golden.py").write_text(
        "import numpy as np\n"
        "def gated(inputs):\n"
        "    y = np.array(inputs['y'], dtype=np.float32).copy()\n"
        f"    y[0] = {y}\n"
        "    return {'y': y}\n", encoding="utf-8")
    c = front_end(SourceFile(str(path), path.read_text(encoding="utf-8")))
    result = simulate(c, None, SimOptions(inputs={"value": value}))
    assert result.passed, result.checks
    assert result.runtime.sched.predicated == counts
    skipped = {r.seq for r in result.schedule()}
    assert (2 in skipped) == (counts == [1, 0])  # a skipped task takes no core


def test_without_numerics_every_predicate_holds() -> None:
    c = front_end(SourceFile("t.pto", GATED.format(gate="i32")))
    result = simulate(c, None, SimOptions(numerics=False))
    assert result.runtime.sched.predicated == [1, 0]


CHAIN = """
kernel P aic 0 (out y: f32[N], n: i64) cost 100000
kernel C aic 1 (in x: f32[N], out z: f32[N])
kernel M mix(aic 2, aiv0 3, aiv1 4) (in x: f32[N], out z: f32[N])

entry chain(out z: f32[N], out w: f32[N]) {
    let p = P(new f32[N], 0) blocks 4 FLAG
    CONSUMER
}

default case c { N = 64 }
"""


def _chain(flag: str, consumer: str) -> dict[int, list[tuple[float, float]]]:
    text = CHAIN.replace("FLAG", flag).replace("CONSUMER", consumer)
    c = front_end(SourceFile("t.pto", text))
    result = simulate(c, None, SimOptions(numerics=False, params=Params()))
    rows: dict[int, list[tuple[float, float]]] = {}
    for r in result.schedule():
        rows.setdefault(r.seq, []).append((r.start_us, r.end_us))
    assert result.runtime.sched.staged_blocks == (len(rows.get(1, ())) if flag else 0)
    return rows


def test_simulator_stages_the_consumer_of_a_flagged_producer() -> None:
    p = Params()
    plain, early = _chain("", "C(p.y, z) blocks 4"), _chain("early", "C(p.y, z) blocks 4")
    assert plain[0] == early[0]  # the producer runs as before
    p_end = max(end for _, end in early[0])
    ready = p_end + (p.complete_ns + p.complete_edge_ns) / 1e3  # its completion
    # the staged blocks start by the doorbell, all at once, the moment the task is ready;
    # without early resolve a thread dispatches them after it
    assert [start for start, _ in early[1]] == \
        pytest.approx([ready + p.doorbell_ns / 1e3] * 4)
    assert min(start for start, _ in plain[1]) == pytest.approx(ready + p.dispatch_ns / 1e3)


def test_a_sync_start_consumer_is_staged_all_at_once() -> None:
    rows = _chain("early", "M(p.y, w) blocks 20 sync")
    p_end = max(end for _, end in rows[0])
    starts = {start for start, _ in rows[1]}
    assert len(rows[1]) == 20 and len(starts) == 1 and min(starts) > p_end


def test_an_unflagged_producer_stages_nothing() -> None:
    rows = _chain("", "C(p.y, z) blocks 4")
    assert len(rows[1]) == 4


@pytest.mark.skipif(GXX is None, reason="g++ is not installed")
def test_the_recorder_gives_back_both_settings(tmp_path: Path) -> None:
    """The generated C++, recorded, gives back the predicated task's element, op and target
    and the early flag (and a change of either in the C++ shows up)."""
    from pto_dsl import record
    from pto_dsl.dialects import DIALECTS
    from pto_dsl.pipeline import case_values, instantiate_case, read_source
    from pto_dsl.record.compare import differences

    text = GATED.format(gate="i32").replace("WRITE_CONST(x)", "WRITE_CONST(x) early")
    c = front_end(SourceFile("gated.pto", text))
    cpp = tmp_path / "gated.cpp"
    generated = generate(c.program, "current", "gated.pto")
    expected = instantiate_case(c, None)
    edits = ((generated, 0), (generated.replace("PredicateOp::GT", "PredicateOp::GE"), 1),
             (generated.replace("set_allow_early_resolve(true)",
                                "set_allow_early_resolve(false)"), 1))
    for edit, diffs in edits:
        cpp.write_text(edit, encoding="utf-8")
        prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
        got = record.record(prepared, c.program, case_values(c, None)).graph
        assert len(differences(c.program, expected, got)) == diffs
        if diffs == 0:
            assert got.task(2).predicate == (">", 0) and got.task(1).early_resolve


@pytest.mark.skipif(GXX is None, reason="g++ is not installed")
def test_the_construct_file_round_trips(tmp_path: Path) -> None:
    """tests/compile/current/dispatch.pto (predicates on an entry tensor, a view and a
    task's output; an early dummy task) recorded from its C++ gives back its graph."""
    from pto_dsl import record
    from pto_dsl.dialects import DIALECTS
    from pto_dsl.pipeline import case_values, instantiate_case, read_source
    from pto_dsl.record.compare import differences

    c = front_end(read_source(CURRENT_ONLY))
    cpp = tmp_path / "dispatch.cpp"
    cpp.write_text(generate(c.program, "current", CURRENT_ONLY.name), encoding="utf-8")
    prepared = record.prepare(cpp, read_source(cpp), DIALECTS["current"])
    got = record.record(prepared, c.program, case_values(c, None)).graph
    assert differences(c.program, instantiate_case(c, None), got) == []
    assert got.task(3).core == "dummy" and got.task(3).early_resolve


def test_deps_json_records_the_flag(tmp_path: Path) -> None:
    from pto_dsl.cli_graph import main

    path = tmp_path / "t.pto"
    path.write_text(CHAIN.replace("FLAG", "early").replace("CONSUMER", "C(p.y, z)"),
                    encoding="utf-8")
    out = tmp_path / "deps.json"
    assert main([str(path), "-o", str(out)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))["tasks"]
    assert [t["early_dispatch"] for t in tasks] == [True, False]
