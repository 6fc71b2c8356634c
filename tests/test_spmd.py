"""SPMD launches (`blocks N [sync]`): the task graph, the checks, the C++ of both dialects
and the simulator's block occupancy."""

from __future__ import annotations

import pytest

from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import front_end
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.source import SourceFile
from tests.helpers import checked, graph

PROGRAM = """
kernel V aiv 3 (inout x: f32[N])
kernel C aic 4 (inout x: f32[N])
kernel M mix(aic 0, aiv0 1, aiv1 2) (inout x: f32[N]) cost 100000

entry spmd(inout a: f32[N], inout b: f32[N], n: i32) {
    let t = V(a) blocks 2 * n
    let m = M(b) blocks n sync dep t
    C(a) blocks 3
    V(b)
}

default case Small { N = 16, n = 4 }
case Wide { N = 16, n = 24 }
"""


def _sim(text: str, case: str | None = None, dialect: str = "current"):  # type: ignore[no-untyped-def]
    c = front_end(SourceFile("t.pto", text), DIALECTS[dialect])
    return simulate(c, case, SimOptions(numerics=False))


def test_graph_records_block_count_and_sync_start() -> None:
    g = graph(PROGRAM)
    launches = [(t.kernel, t.blocks, t.sync_start) for t in g.tasks()]
    assert launches == [("V", 8, False), ("M", 4, True), ("C", 3, False), ("V", 1, False)]
    assert [t.launch_text for t in g.tasks()] == [" x8", " x4 sync", " x3", ""]
    # a launch changes no edge: M waits for V (dep) and C for V (TensorMap)
    assert {(p, c) for p, c, _ in g.edges()} == {(0, 1), (0, 2), (1, 3)}


@pytest.mark.parametrize(("blocks", "code"), [("0", "E177"), ("32768", "E177"),
                                              ("-1", "E177")])
def test_block_count_out_of_range(blocks: str, code: str) -> None:
    text = PROGRAM.replace("C(a) blocks 3", f"C(a) blocks {blocks}")
    with pytest.raises(CompileError) as err:
        graph(text)
    assert err.value.diagnostics[0].code == code


@pytest.mark.parametrize(("line", "ok"), [
    ("M(b) blocks 24 sync", True), ("M(b) blocks 25 sync", False),
    ("C(b) blocks 25 sync", False), ("V(b) blocks 48 sync", True),
    ("V(b) blocks 49 sync", False), ("V(b) blocks 49", True)])
def test_sync_start_limit_is_the_machine(line: str, ok: bool) -> None:
    text = PROGRAM.replace("    V(b)\n", f"    {line}\n")
    if ok:
        graph(text)
        return
    with pytest.raises(CompileError) as err:
        graph(text)
    d = err.value.diagnostics[0]
    assert d.code == "E178" and "fatal error 7" in " ".join(d.help)


def _codes(text: str) -> list[str]:
    with pytest.raises(CompileError) as err:
        checked(text)
    return [d.code for d in err.value.diagnostics]


def test_launch_only_on_kernel_calls() -> None:
    assert _codes("entry e() {\n    let a = alloc(x: f32[4]) blocks 2\n}\n") == ["E133"]
    assert _codes("entry e(n: i32) {\n    let k = n blocks 2 sync\n}\n") == ["E133"]


def test_block_count_must_be_an_integer() -> None:
    assert _codes(PROGRAM.replace("C(a) blocks 3", "C(a) blocks 1.5")) == ["E112"]


def _rows(result, kernel: str) -> list:  # type: ignore[no-untyped-def]
    return [r for r in result.schedule() if r.kernel == kernel]


@pytest.mark.parametrize("dialect", ["current", "v0"])
def test_simulator_runs_each_block_on_its_own_core(dialect: str) -> None:
    result = _sim(PROGRAM, "Wide", dialect)
    v = [r for r in result.schedule() if r.label.startswith("V") and r.seq == 0]
    assert len(v) == 48 and len({r.core for r in v}) == 48
    assert all(r.core.startswith("AIV") for r in v)
    m = [r for r in result.schedule() if r.seq == 1]
    assert len(m) == 24 and len({r.core for r in m}) == 24  # one cluster (its AIC) per block
    # sync start: every block starts at once, after every block of V (its dep) has ended
    assert max(r.start_us for r in m) < min(r.end_us for r in m)
    assert min(r.start_us for r in m) >= max(r.end_us for r in v)
    c = [r for r in result.schedule() if r.seq == 2]
    assert len({r.core for r in c}) == 3 and all(r.core.startswith("AIC") for r in c)


def test_simulator_spills_blocks_beyond_the_cores_and_completes_after_the_last() -> None:
    text = PROGRAM.replace("    V(b)\n", "    let w = V(b) blocks 100\n    C(b) dep w\n")
    result = _sim(text, "Small")
    w = [r for r in result.schedule() if r.seq == 3]
    assert len(w) == 100
    # 48 AIV cores: some core runs more than one block, one after the other
    per_core: dict[str, list] = {}
    for r in w:
        per_core.setdefault(r.core, []).append(r)
    assert len(per_core) == 48 and max(len(v) for v in per_core.values()) >= 2
    after = [r for r in result.schedule() if r.seq == 4]
    assert after[0].start_us >= max(r.end_us for r in w)


SYNC_WAITS = """
kernel V aiv 3 (inout x: f32[N]) cost 100000
kernel W aiv 5 (inout x: f32[N]) cost 10

entry e(inout a: f32[N], inout b: f32[N], inout c: f32[N]) {
    V(a) blocks 40
    W(b) blocks 48 SYNC
    W(c)
}

default case C { N = 16 }
"""


@pytest.mark.parametrize("sync", [True, False])
def test_sync_start_waits_for_all_its_cores_and_holds_back_later_tasks(sync: bool) -> None:
    result = _sim(SYNC_WAITS.replace("SYNC", "sync" if sync else ""))
    rows = result.schedule()
    v_end = min(r.end_us for r in rows if r.seq == 0)
    w = [r for r in rows if r.seq == 1]
    later = next(r for r in rows if r.seq == 2)
    if sync:  # 40 of the 48 AIV cores are busy: W waits for V, and so does everything after
        assert min(r.start_us for r in w) >= v_end
        assert later.start_us >= min(r.start_us for r in w)
    else:  # the 48 short blocks take turns on the 8 idle cores while V runs
        assert len({r.core for r in w}) == 8 and max(r.end_us for r in w) < v_end
        assert later.start_us < v_end


def test_simulator_reports_the_runtime_fatal_for_a_too_wide_sync_start() -> None:
    # the static check stops at the first case; the simulator model checks it too (fatal 7)
    from pto_dsl.sim.api import Arg, ErrorCode, MixedKernels
    from pto_dsl.sim.params import DEFAULT_PARAMS
    from pto_dsl.sim.runtime import Runtime
    rt = Runtime(DEFAULT_PARAMS, {}, numerics=False)
    rt.begin()
    arg = Arg()
    arg.block_num, arg.require_sync_start = 25, True
    rt.submit_task(MixedKernels(aic=0, aiv0=1), arg)
    assert rt.fatal_code == ErrorCode.REQUIRE_SYNC_START_INVALID
    rt = Runtime(DEFAULT_PARAMS, {}, numerics=False)
    rt.begin()
    arg = Arg()
    arg.block_num, arg.require_sync_start = 48, True
    rt.submit_task(MixedKernels(aiv0=1), arg)
    assert rt.fatal_code == ErrorCode.NONE


def test_pictures_show_the_spmd_width() -> None:
    from pto_dsl.viz.analysis import analyse
    from pto_dsl.viz.view import full_view, summary_view
    c = checked(PROGRAM)
    g = graph(PROGRAM)
    findings = analyse(c.program, g, [])
    titles = [node.title for node in full_view(g, findings, "t").nodes]
    assert titles == ["V #0 x8", "M #1 x4 sync", "C #2 x3", "V #3"]
    lines = [node.lines for node in summary_view(c.program, g, findings, "t").nodes]
    assert "blocks x4 sync" in lines[1] and not any("blocks" in x for x in lines[3])
