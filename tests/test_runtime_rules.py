"""The per-target runtime rules (docs/runtime-model.md), each shown by a small program: the
checker's verdict and what the simulator does with the same program and target."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rules_programs import unroll_manual_alloc_after_sf, write

from pto_dsl.diagnostics import CompileError, Diagnostic
from pto_dsl.dialects import CURRENT, DIALECTS, V0, RuntimeConfig
from pto_dsl.pipeline import Checked, front_end, instantiate_case, read_source
from pto_dsl.safety import run_graph_checks
from pto_dsl.sim.api import Arg as SimArg
from pto_dsl.sim.api import ScopeMode, TensorCreateInfo
from pto_dsl.sim.params import DEFAULT_PARAMS, KiB, MiB, Params
from pto_dsl.sim.ring import COMPLETED, CONSUMED
from pto_dsl.sim.run import SimOptions, SimResult, simulate
from pto_dsl.sim.runtime import Runtime

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"
KERNELS = """
import numpy as np


def inc(x):
    x += 1


def gen(y):
    y[...] = 1


def use(*a):
    a[-1][...] = sum(float(np.sum(x)) for x in a[:-1])
"""


def _load(tmp: Path, name: str, text: str, dialect: str) -> Checked:
    (tmp / "rk.py").write_text(KERNELS)
    path = write(tmp, name, text)
    return front_end(read_source(path), DIALECTS[dialect])


def _verdict(checked: Checked, window: int = 16384,
             case: str | None = None) -> list[tuple[str, int]]:
    """(code, line) of every finding of the graph checks on one case."""
    graph = instantiate_case(checked, case)
    found = run_graph_checks(checked.program, graph, RuntimeConfig(window))
    return sorted((d.code, d.span.line if d.span else 0) for d in found)


def _params(window: int, heap: int) -> Params:
    return dataclasses.replace(DEFAULT_PARAMS, task_window=window, heap_size=heap)


def _runs(checked: Checked, window: int, heap: int, seeds: range,
          case: str | None = None) -> list[SimResult | Diagnostic]:
    """One simulation per seed (random ready order, durations, orchestrator speed): the
    result, or the first error it stopped with."""
    out: list[SimResult | Diagnostic] = []
    for seed in seeds:
        try:
            out.append(simulate(checked, case, SimOptions(params=_params(window, heap),
                                                          seed=seed, check=False)))
        except CompileError as exc:
            out.append(exc.diagnostics[0])
    return out


def _errors(runs: list[SimResult | Diagnostic]) -> set[tuple[str, int]]:
    return {(d.code, d.span.line if d.span else 0) for d in runs if isinstance(d, Diagnostic)}


# ---- retention (W301) ---------------------------------------------------------------------

def test_unroll_manual_is_safe_by_in_order_reclaim(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    """The runtime's own unroll manual program: UP reads SF's outputs without naming SF,
    and the alloc task, older in the ring and held by the last UP, keeps them alive."""
    from pto_dsl.cli import check_main

    assert check_main([str(PA / "unroll_manual.pto"), "--all-cases"]) == 0
    assert "warning" not in capsys.readouterr().err
    checked = front_end(read_source(write(tmp_path, "um.pto",
                                          (PA / "unroll_manual.pto").read_text())))
    assert _errors(_runs(checked, 16, 2 * MiB, range(8))) == set()


# The UP deps of the current runtime's manual programs: no SF, alloc only on the last block.
HEAD_DEPS = [
    ("manual.pto", "dep sf, pv, acc when bn == 0, prev, acc when bn > 0 and bn == nblk - 1",
     "dep pv, prev, acc when bn == nblk - 1"),
    ("unroll_manual.pto", "dep pv, acc when bn == 0, prev, acc when bn > 0 and bn + n >= nblk",
     "dep pv, prev, acc when bn + n >= nblk"),
]


@pytest.mark.parametrize(("name", "v0_deps", "head_deps"), HEAD_DEPS)
def test_the_current_runtimes_manual_deps_are_safe(tmp_path: Path, name: str, v0_deps: str,
                                                  head_deps: str) -> None:
    """With the deps the current runtime's manual programs write, UP names neither SF nor
    (before the last block) the alloc task; in-order reclaim keeps SF's outputs alive."""
    text = (PA / name).read_text()
    assert text.count(v0_deps) == 1
    checked = front_end(read_source(write(tmp_path, name, text.replace(v0_deps, head_deps))))
    cases = [c.name.name for c in checked.program.cases if not c.name.name[4:5].isdigit()]
    for case in cases or [checked.program.cases[0].name]:
        assert _verdict(checked, case=case) == []
    assert _errors(_runs(checked, 16, 2 * MiB, range(4), case=(cases or [None])[0])) == set()


def test_alloc_after_softmax_loses_the_buffer_exactly_where_w301_says(tmp_path: Path) -> None:
    checked = front_end(read_source(write(tmp_path, "late.pto",
                                          unroll_manual_alloc_after_sf())))
    (found,) = _verdict(checked)
    assert found[0] == "W301"
    (d,) = run_graph_checks(checked.program, instantiate_case(checked, None))
    # the cheapest fix: SF is already ordered before UP, nearest to the buffers' creator
    assert d.span is not None
    assert d.help[0] == f'add "dep sf" to the submission at {d.span.file}:{found[1]}'
    runs = _runs(checked, 16, 2 * MiB, range(8))
    assert _errors(runs) == {("E507", found[1])}  # the reader W301 names, and only it


TENSORMAP_ONLY = (Path(__file__).parent / "bad" /
                  "w301_tensormap_edge_does_not_retain.pto").read_text()


def _with_impls(text: str, impls: dict[str, str]) -> str:
    lines = []
    for line in text.splitlines():
        lines.append(line)
        if line.startswith("kernel "):
            lines.append(f'    impl "rk:{impls[line.split()[1]]}"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("dialect", "lost"), [("current", True), ("v0", False)])
def test_a_tensormap_edge_retains_at_v0_only(tmp_path: Path, dialect: str, lost: bool) -> None:
    text = _with_impls(TENSORMAP_ONLY, {"W": "inc", "PRODUCE": "gen", "MID": "use",
                                        "READ": "use", "LAST": "use"})
    checked = _load(tmp_path, "tm.pto", text, dialect)
    # (at v0, LAST's dep on READ, whose scope has ended, is also W304)
    verdict = [f for f in _verdict(checked) if f[0] == "W301"]
    assert len(verdict) == int(lost)
    errors = _errors(_runs(checked, 8, 1 * MiB, range(16)))
    assert errors == ({("E507", verdict[0][1])} if lost else set())


# ---- TensorMap overlap per target ---------------------------------------------------------

RESHAPED = """
kernel WR aiv 0 (inout x: f32[2, 8])
    impl "rk:inc"
kernel RD aiv 1 (in x: f32[1, 16], out y: f32[1, 16])
    impl "rk:use"
entry e(inout buf: f32[8, 8], out o: f32[1, 16]) {
    scope {
        WR(buf[2 : 4, :])
        let flat = reshape(buf, [4, 16])
        RD(flat[1 : 2, :], o)
    }
}
default case c { }
"""


@pytest.mark.parametrize(("dialect", "edges"), [("v0", 0), ("current", 1)])
def test_a_reshaped_alias_is_missed_by_v0_and_reported_as_a_race(tmp_path: Path, dialect: str,
                                                                edges: int) -> None:
    """Rows 2:4 of an [8, 8] buffer are row 1 of its [4, 16] reshape: v0's per-dimension
    test calls them disjoint, so no edge, and the hazard check (true memory) reports the
    race; the current runtime's flat test finds the overlap."""
    checked = _load(tmp_path, "alias.pto", RESHAPED, dialect)
    verdict = _verdict(checked)
    assert [code for code, _ in verdict] == (["E201"] if edges == 0 else [])
    result = simulate(checked, None, SimOptions(check=False))
    assert result.runtime.counts.origins["tensormap"] == edges
    assert instantiate_case(checked, None).edges_by_origin()["tensormap"] == edges


def _columns(shape: str, left: str, right: str) -> str:
    return f"""
kernel MK aiv 0 (out y: f32[{shape}])
    impl "rk:gen"
kernel L aiv 1 (inout x: f32[R, A])
    impl "rk:inc"
kernel RT aiv 2 (inout x: f32[R, B])
    impl "rk:inc"
entry e(in x: f32[1]) {{
    scope {{
        let m = MK(new f32[{shape}])
        L(m.y[:, {left}])
        RT(m.y[:, {right}])
    }}
}}
default case c {{ }}
"""


@pytest.mark.parametrize(("dialect", "shape", "left", "right", "edge"), [
    ("current", "3, 5", "0 : 2", "2 : 5", True),  # 60 B stored as 1024 B: 256 % 5 != 0
    ("v0", "3, 5", "0 : 2", "2 : 5", False),  # per-dimension: the columns are disjoint
    ("current", "4, 4", "0 : 2", "2 : 4", False),  # 1024 B is whole rows: exact box test
])
def test_current_falls_back_to_other_for_outputs_of_unaligned_size(
        tmp_path: Path, dialect: str, shape: str, left: str, right: str, edge: bool) -> None:
    checked = _load(tmp_path, "cols.pto", _columns(shape, left, right), dialect)
    assert _verdict(checked) == []  # disjoint columns: never a race
    graph = instantiate_case(checked, None)
    assert graph.edges_by_origin()["tensormap"] == int(edge)
    result = simulate(checked, None, SimOptions(check=False))
    assert result.runtime.counts.origins["tensormap"] == int(edge)


# ---- rings and heaps ----------------------------------------------------------------------

RING3 = (Path(__file__).parent / "bad" / "e203_shared_ring.pto").read_text()


@pytest.mark.parametrize(("window", "fatal"), [(8, True), (16, False)])
def test_nested_scopes_from_depth_3_fill_the_shared_ring(tmp_path: Path, window: int,
                                                         fatal: bool) -> None:
    text = _with_impls(RING3, {"K": "use"})
    checked = _load(tmp_path, "ring3.pto", text, "current")
    assert [c for c, _ in _verdict(checked, window)] == (["E203"] if fatal else [])
    if not fatal:
        simulate(checked, None, SimOptions(params=_params(window, MiB), check=False))
        return
    with pytest.raises(CompileError) as info:
        simulate(checked, None, SimOptions(params=_params(window, MiB), check=False))
    (d,) = info.value.diagnostics
    assert d.code == "E501" and "FATAL(code=3 FLOW_CONTROL_DEADLOCK)" in d.message
    assert "Task Ring Full" in d.message


REBASE = """
kernel SMALL aiv 0 (out y: f32[256])
    impl "rk:gen"
kernel BIG aiv 1 (out y: f32[1024])
    impl "rk:gen"
entry e(in x: f32[1]) {
    scope { SMALL(new f32[256]) }
    scope { BIG(new f32[1024]) }
}
default case c { }
"""


@pytest.mark.parametrize("dialect", ["v0", "current"])
def test_an_empty_heap_rebases_at_current_only(tmp_path: Path, dialect: str) -> None:
    """A 4 KiB heap: SMALL takes its first KiB and is reclaimed; BIG needs all 4 KiB. The
    current runtime rebases the empty heap to 0; v0 only wraps, and no gap is large
    enough: Heap Exhausted, code 2. (pto-check models no heap: clean at both.)"""
    checked = _load(tmp_path, "rebase.pto", REBASE, dialect)
    assert _verdict(checked) == []
    options = SimOptions(params=_params(16, 4 * KiB), check=False)
    if DIALECTS[dialect].rules.heap_rebase:
        simulate(checked, None, options)
        return
    with pytest.raises(CompileError) as info:
        simulate(checked, None, options)
    (d,) = info.value.diagnostics
    assert "FATAL(code=2 HEAP_RING_DEADLOCK)" in d.message and "Heap Exhausted" in d.message


# ---- deps on producers that may be CONSUMED -----------------------------------------------

CONSUMED_DEP = (Path(__file__).parent / "bad" / "w304_dep_on_consumed_producer.pto").read_text()


@pytest.mark.parametrize("dialect", ["v0", "current"])
def test_a_dep_on_a_producer_of_an_ended_scope(tmp_path: Path, dialect: str) -> None:
    checked = _load(tmp_path, "consumed.pto", _with_impls(CONSUMED_DEP, {"A": "gen", "B": "use"}),
                    dialect)
    assert [c for c, _ in _verdict(checked)] == (["W304"] if dialect == "v0" else [])


def _out() -> SimArg:
    arg = SimArg()
    arg.add_output(TensorCreateInfo((64,), "f32"))
    return arg


@pytest.mark.parametrize("dialect", [V0, CURRENT], ids=lambda d: d.name)
def test_a_linked_consumed_producer_desyncs_the_next_task_of_its_slot(dialect: object) -> None:
    """Ring 3 (shared by depth 3 and 4), window 4. X pins the ring while its depth-3 scope
    is open; A, in a depth-4 scope that has ended, runs and is CONSUMED but not reclaimed;
    B names A. v0 links it: B's release, when B finishes after A's slot was reclaimed,
    lands on the slot's next task T, which is then reclaimed while its own scope is still
    open (it is reclaimed as soon as the older tasks of the ring are). The current runtime
    drops the edge, and T stays until its scope ends."""
    assert dialect in (V0, CURRENT)
    rules = V0.rules if dialect is V0 else CURRENT.rules
    rt = Runtime(_params(4, MiB), numerics=False, rules=rules)
    rt.begin()

    def idle(ns: float = 1e6) -> None:  # the orchestrator is slow: every task can run
        rt.orch_time += ns
        rt.sched.run_until(rt.orch_time)
    for _ in range(3):
        rt.scope_begin(ScopeMode.AUTO)
    rt.submit_aiv_task(0, _out())  # X: ring 3, local 0
    rt.scope_begin(ScopeMode.AUTO)
    a = rt.submit_aiv_task(0, _out()).task_id  # A: local 1
    rt.scope_end()
    idle()
    b_arg = _out()
    b_arg.add_dep(a)
    rt.submit_aiv_task(0, b_arg)  # B: local 2, starts at once
    if dialect is V0:
        assert rt.consumed_links["explicit"] == 1 and rt.counts.wired["explicit"] == 1
    else:
        assert rt.counts.retired["explicit"] == 1 and not rt.consumed_links
    rt.scope_end()  # the depth-3 scope: X and A are reclaimed, B still runs
    ring = rt.rings[3]
    assert ring.last_alive == 2
    rt.scope_begin(ScopeMode.AUTO)
    rt.submit_aiv_task(0, _out())  # local 3
    rt.submit_aiv_task(0, _out())  # local 4
    t = rt.submit_aiv_task(0, _out()).task_id  # T: local 5, A's slot, once B is reclaimed
    idle()
    assert not rt.is_fatal()
    slot = ring.slot_of(5)
    assert slot is not None and slot.task_id == t
    # v0: T is CONSUMED (reclaimable) although its scope still holds it; current: COMPLETED
    assert slot.state == (CONSUMED if dialect is V0 else COMPLETED)
    rt.scope_end()
    rt.finish()
    assert not rt.is_fatal()


@pytest.mark.parametrize("variant", ["as written", "alloc after SF"])
def test_pto_run_explore_agrees_with_pto_check(tmp_path: Path, variant: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`pto-check` and `pto-run --explore` with a small window and heap, on the runtime's
    unroll manual program and on its variant: a reclaimed-buffer error in some schedule
    exactly where W301 is reported, and none where it is not."""
    from pto_dsl.cli import check_main
    from pto_dsl.cli_run import main as run_main

    text = (PA / "unroll_manual.pto").read_text() if variant == "as written" \
        else unroll_manual_alloc_after_sf()
    path = write(tmp_path, "p.pto", text)
    assert check_main([str(path), "--task-window", "16"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning[W301]" in line]
    code = run_main([str(path), "--task-window", "16", "--heap-mib", "2", "--explore", "6"])
    captured = capsys.readouterr()
    reclaimed = [line for line in captured.err.splitlines() + captured.out.splitlines()
                 if "error[E507]" in line]
    if variant == "as written":
        assert (code, warned, reclaimed) == (0, [], [])
        return
    assert code == 1 and len(warned) == 1 and reclaimed
    where = warned[0].split(": warning")[0]  # file:line:col of the W301
    assert any(line.startswith(where + ": error[E507]") for line in reclaimed), reclaimed
