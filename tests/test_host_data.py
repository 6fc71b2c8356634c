"""Orchestration-side element access and the machine's core counts: the waits the
runtime makes (recorded in the graph, ordering tasks for the race check), races the wait
does not cover (E204), reads of task-written data ('computed' in pto-check, the kernel's
result in pto-run), the C++ of both dialects and the simulator's serialisation point."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_compile_support import GOLDEN, GXX, compile_file, include_dir, syntax_check

from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import CURRENT, V0, Dialect
from pto_dsl.pipeline import check_graph, front_end, instantiate_case, read_source
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile
from tests.helpers import checked, graph

ROOT = Path(__file__).resolve().parent.parent
BOTH = ROOT / "tests" / "compile" / "host_data.pto"
CURRENT_ONLY = ROOT / "tests" / "compile" / "current" / "core_counts.pto"


def _codes(text: str, dialect: Dialect = CURRENT) -> list[str]:
    """The errors of the graph checks on the default case."""
    c = front_end(SourceFile("t.pto", text), dialect)
    try:
        check_graph(c, instantiate_case(c, None))
    except CompileError as exc:
        return sorted({d.code for d in exc.diagnostics if d.code.startswith("E")})
    return []


WAITS = """
kernel P aiv 0 (out y: f32[N])
kernel R aiv 1 (in x: f32[N], out y: f32[N])
kernel W aiv 2 (inout x: f32[N])
entry e(inout a: f32[N], out o: f32[N], out q: f32[N]) {
    let p = P(new f32[N])
    let r = R(p.y, o)
    let later = R(a, q)
    let py = p.y
    py[0] = 1.0
    W(a)
}
case c { N = 8 }
"""


def test_a_write_waits_for_the_producers_and_the_consumers_they_hold() -> None:
    g = graph(WAITS)
    (write,) = g.host_reads
    assert write.write and write.after_tasks == 3
    assert write.waited == (0, 1)  # P (the creator) and R, which holds P; not R#2


ENDED = """
kernel W aiv 0 (inout x: f32[N])
kernel R aiv 1 (in x: f32[N], out y: f32[N])
entry e(inout a: f32[N], out o: f32[N]) {
    scope {
        let w = W(a)
        R(manual_dep(a), o) dep w
    }
    a[0] = 1.0
}
case c { N = 8 }
"""


def test_v0_waits_for_consumers_only_while_the_producers_scope_is_open() -> None:
    """v0's wait takes the released scope reference for a consumer: once W's scope has
    ended it may return while R still reads `a` (a race there, none at current)."""
    current = checked(ENDED)
    assert instantiate_case(current, None).host_reads[0].waited == (0, 1)
    assert _codes(ENDED) == []
    assert V0.rules.exact_consumer_wait is False
    v0 = front_end(SourceFile("t.pto", ENDED), V0)
    assert instantiate_case(v0, None).host_reads[0].waited == (0,)
    assert _codes(ENDED, V0) == ["E204"]
    inside = front_end(SourceFile("t.pto", ENDED.replace("    }\n    a[0] = 1.0\n",
                                                           "        a[0] = 1.0\n    }\n")), V0)
    assert instantiate_case(inside, None).host_reads[0].waited == (0, 1)


def test_an_orchestration_wait_orders_the_tasks_after_it() -> None:
    """W writes `a`, which R#2 read: a write after read the TensorMap does not see (W201
    in an AUTO scope), unless an orchestration access waited for R#2 in between."""
    unordered = WAITS.replace("    py[0] = 1.0\n", "")
    assert "W201" in {d.code for d in check_graph(checked(unordered),
                                                  graph(unordered))}
    waited = WAITS.replace("py[0] = 1.0", "q[0] = 1.0")  # waits for R#2, q's writer
    assert not check_graph(checked(waited), graph(waited))


def test_a_write_after_an_untracked_reader_is_e204() -> None:
    assert _codes(WAITS.replace("py[0] = 1.0", "a[0] = 1.0")) == ["E204"]
    # the reader taking `a` as inout is in the TensorMap: the write waits for it
    assert _codes(WAITS.replace("let later = R(a, q)", "let later = W(a)")
                  .replace("py[0] = 1.0", "a[0] = 1.0")) == []


def test_an_access_does_not_wait_for_manual_writers() -> None:
    text = """
kernel W aiv 0 (inout x: i32[N])
entry e(inout a: i32[N], out o: i32[N]) {
    scope manual {
        W(a)
        o[0] = a[0]
    }
}
case c { N = 4 }
"""
    assert _codes(text) == ["E204"]
    assert _codes(text.replace("scope manual", "scope")) == []


def test_reads_of_task_written_data_are_computed_values() -> None:
    g = graph("""
kernel P aiv 0 (out y: i32[N])
entry e(out o: i32[N]) {
    let p = P(new i32[N])
    let v = p.y[0] * 2 - 1
    o[0] = v
    o[1] = max(v, 3)
}
case c { N = 4 }
""")
    assert [r.write for r in g.host_reads] == [False, True, True]
    with pytest.raises(CompileError) as info:
        graph("""
kernel P aiv 0 (out y: i32[N])
kernel K aiv 1 (in x: i32[N], n: i32)
entry e(out o: i32[N]) {
    let p = P(new i32[N])
    K(p.y, p.y[1])
}
case c { N = 4 }
""")
    (diag,) = info.value.diagnostics
    assert diag.code == "E171" and "P#0" in diag.message and "kernel scalar" in diag.message


def test_both_dialects_golden_and_gxx(tmp_path: Path, update_golden: bool) -> None:
    for dialect in ("current", "v0"):
        text = compile_file(BOTH, dialect)
        assert text.count("pto_write<") == 5 and "set_tensor_data<T>" in text
        assert text.count("pto_read<") == 4
    current = compile_file(CURRENT_ONLY, "current")
    golden = GOLDEN / "current" / "core_counts.current.cpp"
    if update_golden:
        golden.write_text(current, encoding="utf-8", newline="\n")
    assert current == golden.read_text(encoding="utf-8")
    assert current.count("rt_available_aiv_count()") == 2
    assert current.count("rt_available_cluster_count()") == 1
    if GXX is None:
        pytest.skip("g++ is not installed")
    out = tmp_path / "core_counts.current.cpp"
    out.write_text(current, encoding="utf-8")
    result = syntax_check([out], include_dir(tmp_path / "inc", "current"))
    assert result.returncode == 0, result.stderr[-4000:]


def test_v0_cannot_tell_the_core_counts() -> None:
    with pytest.raises(CompileError) as err:
        compile_file(CURRENT_ONLY, "v0")
    assert {d.code for d in err.value.diagnostics} == {"E406"}
    assert [d.span.line for d in err.value.diagnostics] == [5, 6, 8]


SIM = """
kernel SLOW aiv 0 (out y: f32[N]) impl "k.py:fill" cost 200000
kernel FAST aiv 1 (in x: f32[N], out y: f32[N]) impl "k.py:double" cost 100
entry e(in a: f32[N], out o: f32[N], out chk: f32[2]) {
    let s = SLOW(new f32[N])
    let d = s.y
    chk[0] = d[1]           # waits for SLOW: the orchestrator stalls here
    d[0] = 10.0             # SLOW's consumers: none; the write is seen by FAST
    FAST(d, o)
    chk[1] = o[0]
}
case c { N = 4, a = fill(1.0) }
"""


def _sim(tmp_path: Path, text: str, **options: object):  # type: ignore[no-untyped-def]
    (tmp_path / "k.py").write_text("def fill(y):\n    y[...] = 3\n\n"
                                   "def double(x, y):\n    y[...] = 2 * x\n")
    path = tmp_path / "t.pto"
    path.write_text(text)
    return simulate(front_end(read_source(path)), None, SimOptions(**options))  # type: ignore[arg-type]


def test_the_simulated_orchestrator_stalls_and_kernels_see_its_writes(tmp_path: Path) -> None:
    result = _sim(tmp_path, SIM)
    assert result.outputs["chk"].tolist() == [3.0, 20.0]
    assert result.outputs["o"].tolist() == [20.0, 6.0, 6.0, 6.0]
    rows = {r.kernel: r for r in result.schedule()}
    # FAST has an edge to SLOW anyway; submitted only after SLOW ended (the read's wait)
    assert rows["FAST"].start_us >= rows["SLOW"].end_us
    assert result.runtime.orch_time >= rows["SLOW"].end_us * 1000


def test_an_independent_task_after_a_wait_starts_after_the_waited_task(tmp_path: Path) -> None:
    text = """
kernel SLOW aiv 0 (out y: f32[N]) impl "k.py:fill" cost 200000
kernel FAST aiv 1 (in x: f32[N], out y: f32[N]) impl "k.py:double" cost 100
entry e(in a: f32[N], out o: f32[N], out p: f32[N], out q: f32[N]) {
    SLOW(o)
    o[0] = 1.0
    FAST(a, q)
}
case c { N = 4, a = fill(1.0) }
"""
    rows = {r.kernel: r for r in _sim(tmp_path, text).schedule()}
    assert rows["FAST"].start_us >= rows["SLOW"].end_us
    free = {r.kernel: r for r in _sim(tmp_path, text.replace("    o[0] = 1.0\n", "")).schedule()}
    assert free["FAST"].start_us < free["SLOW"].end_us  # without the write: in parallel


def test_core_counts_follow_the_simulated_width(tmp_path: Path) -> None:
    import dataclasses

    from pto_dsl.sim.params import DEFAULT_PARAMS
    text = CURRENT_ONLY.read_text().replace("(inout x: i32[N])",
                                            '(inout x: i32[N]) impl "k.py:noop"')
    (tmp_path / "k.py").write_text("def noop(x):\n    pass\n")
    path = tmp_path / "t.pto"
    path.write_text(text)
    c = front_end(read_source(path))
    full = simulate(c, None, SimOptions())
    narrow = simulate(c, None, SimOptions(params=dataclasses.replace(
        DEFAULT_PARAMS, block_dim=9)))
    assert full.outputs["widths"].tolist() == [24, 48]
    assert narrow.outputs["widths"].tolist() == [9, 18]


def test_each_access_is_one_tensormap_lookup(tmp_path: Path) -> None:
    """Reads and writes count one lookup each, in any mode, in the graph and (at v0, which
    counts every call) in the simulated runtime."""
    text = """
kernel W aiv 0 (inout x: f32[N]) impl "k.py:noop"
entry e(inout a: f32[N], inout b: f32[N]) {
    W(a)
    a[0] = 1.0
    scope manual {
        W(b)
        b[1] = a[0]
    }
}
case c { N = 4 }
"""
    base = graph(text.replace("    a[0] = 1.0\n", "").replace("b[1] = a[0]", "W(a)"))
    g = graph(text)
    assert g.tensormap_lookups == base.tensormap_lookups + 3  # a write, a read, a write
    (tmp_path / "k.py").write_text("def noop(x):\n    pass\n")
    path = tmp_path / "t.pto"
    path.write_text(text)
    result = simulate(front_end(read_source(path), V0), None, SimOptions())
    v0 = instantiate_case(front_end(read_source(path), V0), None)
    assert result.runtime.tmap.lookups == v0.tensormap_lookups
