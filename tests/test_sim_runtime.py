"""The runtime model's rules through its own API (reference §2): scopes and their fatal
errors, rings and slot reuse, explicit deps, the TensorMap and its counters."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pto_dsl.diagnostics import CompileError
from pto_dsl.dialects import V0, V0_RULES
from pto_dsl.pipeline import front_end, read_source
from pto_dsl.sim.api import (
    INVALID_TASK_ID,
    Arg,
    ErrorCode,
    ScopeMode,
    TensorCreateInfo,
    make_tensor_external,
)
from pto_dsl.sim.params import DEFAULT_PARAMS, Params
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.sim.runtime import Runtime

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"
X = make_tensor_external(0x1000, (64,), "f32")


def _out() -> Arg:
    arg = Arg()
    arg.add_output(TensorCreateInfo((64,), "f32"))
    return arg


def _runtime(window: int = 16) -> Runtime:
    rt = Runtime(dataclasses.replace(DEFAULT_PARAMS, task_window=window), numerics=False,
                 rules=V0_RULES)  # counts every TensorMap lookup
    rt.begin()
    return rt


def test_auto_scope_inside_manual_scope_is_fatal_code_5() -> None:
    rt = _runtime()
    rt.scope_begin(ScopeMode.MANUAL)
    rt.scope_begin(ScopeMode.MANUAL)  # MANUAL inside MANUAL is allowed (§2.4)
    assert not rt.is_fatal()
    rt.scope_begin(ScopeMode.AUTO)
    assert rt.fatal_code == ErrorCode.INVALID_ARGS and int(rt.fatal_code) == 5
    assert rt.fatal_message == "auto scope nested inside manual scope is not supported"
    assert rt.log == ["FATAL(code=5): auto scope nested inside manual scope is not supported"]
    # after a fatal every call is a no-op; results carry the invalid task id (§1.6)
    assert rt.submit_aiv_task(0, _out()).task_id == INVALID_TASK_ID


def _program(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.pto"
    path.write_text(text)
    return path


NESTED = """
kernel K aiv 0 (in x: f32[N], out y: f32[N])
entry e(in x: f32[N]) {
    scope manual {
        scope manual {
            K(x, new f32[N])
        }
    }
}
case c { N = 8 }
"""


def test_auto_in_manual_built_through_the_python_api_fails_in_the_model(tmp_path: Path) -> None:
    checked = front_end(read_source(_program(tmp_path, NESTED)))  # passes the static checks
    inner = checked.program.scopes[1]
    inner.manual = False  # now an AUTO scope inside a MANUAL one, which E120 would reject
    with pytest.raises(CompileError) as info:
        simulate(checked, None, SimOptions(numerics=False))
    (d,) = info.value.diagnostics
    assert d.code == "E501" and d.span is not None and d.span.line == 5
    assert "FATAL(code=5 INVALID_ARGS): auto scope nested inside manual scope is not " \
        "supported" in d.message


def test_scope_larger_than_the_window_is_scope_deadlock() -> None:
    rt = _runtime(window=8)
    rt.scope_begin(ScopeMode.MANUAL)
    for _ in range(7):  # window - 1 tasks fit in one scope (§2.7)
        assert rt.submit_aiv_task(0, _out()).task_id != INVALID_TASK_ID
    assert not rt.is_fatal()
    rt.submit_aiv_task(0, _out())
    assert rt.fatal_code == ErrorCode.SCOPE_DEADLOCK and int(rt.fatal_code) == 1
    assert rt.fatal_message.startswith("FATAL: Scope Deadlock Detected! (ring 1)")


def test_scope_deadlock_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from pto_dsl.cli_run import main
    assert main([str(PA / "manual.pto"), "--case", "CaseSmall2", "--task-window", "16"]) == 1
    err = capsys.readouterr().err
    assert "error[E501]" in err and "FATAL(code=1 SCOPE_DEADLOCK)" in err


def test_ring_shared_by_deep_scopes_deadlocks_the_allocator() -> None:
    rt = _runtime(window=8)
    for _ in range(3):
        rt.scope_begin(ScopeMode.AUTO)  # depth 3: ring 3
    for _ in range(4):
        rt.submit_aiv_task(0, _out())
    rt.scope_begin(ScopeMode.AUTO)  # depth 4 shares ring 3 (§5.4)
    for _ in range(4):
        rt.submit_aiv_task(0, _out())
    # a full task ring is FLOW_CONTROL_DEADLOCK (3) at every target; 2 is the heap's
    assert rt.fatal_code == ErrorCode.FLOW_CONTROL_DEADLOCK and int(rt.fatal_code) == 3
    assert "Task Ring Full" in rt.fatal_message


@pytest.mark.parametrize(("build", "message"), [
    (lambda a: a.add_dep(INVALID_TASK_ID), "Arg.add_dep(...) requires a valid task id"),
    (lambda a: (a.add_scalar(1), a.add_input(X)),
     "add_input/add_output/add_inout called after add_scalar: all tensors must be added "
     "before any scalars"),
    (lambda a: a.add_input(*[X] * 17), "Too many tensor args (exceeds MAX_TENSOR_ARGS=16)"),
    (lambda a: a.add_dep(*[0] * 17),
     "Too many explicit deps (exceeds explicit dependency capacity=16)"),
])
def test_invalid_args_are_fatal_code_5(build: object, message: str) -> None:
    rt = _runtime()
    arg = _out()
    build(arg)  # type: ignore[operator]
    rt.submit_aiv_task(0, arg)
    assert (rt.fatal_code, rt.fatal_message) == (ErrorCode.INVALID_ARGS, message)


def test_dep_on_a_retired_producer_is_skipped() -> None:
    rt = _runtime()
    rt.scope_begin()
    first = rt.submit_aiv_task(0, _out()).task_id
    rt.scope_end()
    while rt.sched.step():
        pass
    assert rt.rings[1].last_alive == 1  # consumed and reclaimed
    rt.scope_begin()
    arg = _out()
    arg.add_dep(first)
    rt.submit_aiv_task(0, arg)
    assert not rt.is_fatal()
    assert rt.counts.wired["explicit"] == 0 and rt.counts.retired["explicit"] == 1


def test_slots_are_reused_and_only_live_tasks_are_held() -> None:
    rt = _runtime(window=16)
    for _ in range(200):
        rt.scope_begin()
        made = rt.submit_aic_task(0, _out())
        arg = Arg()
        arg.add_input(made.get_ref(0))
        rt.submit_aiv_task(1, arg)  # creator edge
        rt.scope_end()
    rt.finish()
    ring = rt.rings[1]
    assert rt.seq == 400 and ring.current == 400 and ring.last_alive == 400
    assert len(ring.slots) == 16 and ring.peak_live <= 15
    assert all(s is None for s in ring.slots)
    assert rt.counts.wired["creator"] == 200


def test_tensormap_overlap_and_exact_base_address() -> None:
    rt = _runtime()
    rt.scope_begin()
    whole = make_tensor_external(0x8000, (8, 4), "f32")
    rt.submit_aiv_task(0, _with(Arg.add_inout, whole.view((4, 4), (0, 0))))
    rt.submit_aiv_task(0, _with(Arg.add_input, whole.view((4, 4), (4, 0))))  # disjoint rows
    assert rt.counts.wired["tensormap"] == 0
    rt.submit_aiv_task(0, _with(Arg.add_input, whole.view((4, 4), (2, 0))))  # overlaps
    assert rt.counts.wired["tensormap"] == 1
    alias = make_tensor_external(0x8000 + 16, (4, 4), "f32")  # same memory, other base
    rt.submit_aiv_task(0, _with(Arg.add_input, alias))
    assert rt.counts.wired["tensormap"] == 1
    # one lookup per INPUT/INOUT, one insert per INOUT (reference §4)
    assert (rt.tmap.lookups, rt.tmap.inserts) == (4, 1)


def _with(add: object, tensor: object) -> Arg:
    arg = Arg()
    add(arg, tensor)  # type: ignore[operator]
    return arg


def test_manual_scope_bypasses_the_tensormap_unless_boundary_rule() -> None:
    checked = front_end(read_source(PA / "manual.pto"), V0)  # v0 counts every lookup call
    merged = simulate(checked, "CaseSmall1", SimOptions(numerics=False)).runtime.tmap
    boundary = simulate(checked, "CaseSmall1", SimOptions(
        numerics=False, tensormap_rule="boundary")).runtime.tmap
    reads = 4  # context_lens[0] and three block_table reads: one lookup each, any mode
    assert (merged.lookups, merged.inserts) == (reads, 0)
    # pre-merge: qi, kj, vj and the output rows are boundary tensors, 3 blocks
    assert (boundary.lookups, boundary.inserts) == (reads + 3 * 4, 3)


READ_BACK = """
kernel FILL aiv 0 (out y: i32[N]) impl "k.py:fill"
entry e(inout t: i32[N], out o: i32[N]) {
    scope {
        FILL(t)
        let first = t[0]
        FILL(o[first : first + 1])
    }
}
case c { N = 8 }
"""


def test_orchestration_reads_wait_for_the_writer(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text("def fill(y):\n    y[...] = 3\n")
    checked = front_end(read_source(_program(tmp_path, READ_BACK)))
    result = simulate(checked, None, SimOptions())
    assert result.outputs["o"].tolist() == [0, 0, 0, 3, 0, 0, 0, 0]
    with pytest.raises(CompileError) as info:
        simulate(checked, None, SimOptions(numerics=False))
    assert info.value.diagnostics[0].code == "E506"


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="power of 2"):
        Params(task_window=12)
    with pytest.raises(ValueError, match="block_dim"):
        Params(block_dim=25)


def test_back_pressure_blocks_the_orchestrator_until_slots_free_up() -> None:
    params = dataclasses.replace(DEFAULT_PARAMS, task_window=4, launch_ns=50_000.0)
    rt = Runtime(params, numerics=False)
    rt.begin()
    for _ in range(20):  # one task per scope: each can retire once it has run
        rt.scope_begin()
        rt.submit_aiv_task(0, _out())
        rt.scope_end()
    assert not rt.is_fatal()
    assert rt.rings[1].peak_live == 3  # live tasks per ring stay <= window - 1
    # the orchestrator waited for tasks of 50 us each: 20 of them, at most 3 in flight
    assert rt.orch_time > 5 * 50_000
    rt.finish()
    assert rt.sched.completed == 20


MIX = """
kernel FUSED mix(aic 3, aiv0 4, aiv1 4) (in x: f32[N], out y: f32[N]) cost 1800
entry e(in x: f32[N]) {
    scope {
        for i in 0 .. 4 {
            FUSED(x, new f32[N])
        }
    }
}
case c { N = 8 }
"""


def test_mix_tasks_take_a_whole_idle_cluster(tmp_path: Path) -> None:
    checked = front_end(read_source(_program(tmp_path, MIX)))
    options = SimOptions(numerics=False, params=dataclasses.replace(DEFAULT_PARAMS,
                                                                    block_dim=2))
    result = simulate(checked, None, options)
    rows = result.schedule()
    assert [r.kernel for r in rows] == ["FUSED"] * 4
    busy = result.runtime.sched.busy
    assert busy[0] > 0 and busy[1] > 0  # both clusters' AIC (mix runs two at a time)
    assert all(b > 0 for b in busy[2:6])  # and every AIV of both clusters
    assert rows[2].start_us >= min(rows[0].end_us, rows[1].end_us)


def test_progress_is_reported_every_n_submits() -> None:
    rt = _runtime()
    seen: list[int] = []
    rt.progress, rt.progress_every = (lambda r: seen.append(r.seq)), 4
    for _ in range(10):
        rt.scope_begin()
        rt.submit_aiv_task(0, _out())
        rt.scope_end()
    assert seen == [4, 8]
