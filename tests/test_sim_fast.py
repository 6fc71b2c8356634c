"""The simulator's fast paths against its general ones: the same schedules, times and
counts on every example, with the machine as wide as the default and one cluster wide
(where ready tasks wait for cores and SPMD tasks start in parts); the Arg builder's
bulk form against its calls."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from pto_dsl.cases import case_names
from pto_dsl.diagnostics import CompileError
from pto_dsl.pipeline import front_end, read_source
from pto_dsl.sim.api import V0_LIMITS, Arg, ArgLimits, TensorArgType, make_tensor_external
from pto_dsl.sim.params import TARGET_PARAMS
from pto_dsl.sim.report import stats, to_json
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.sim.runtime import Runtime
from pto_dsl.sim.scheduler import Scheduler

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FULL_SIZE = ("Case1", "Case2")  # paged attention's: too slow for this comparison


# an SPMD producer in waves, flagged for early resolve: its consumer's block is staged on
# a core its last wave leaves idle
EARLY = """\
kernel P aiv 0 (inout y: f32[_])
    cost 1000
kernel C aiv 1 (inout w: f32[_])
    cost 1
entry e(inout t: f32[N], inout o: f32[N]) {
    scope manual {
        let p = P(t) blocks 59 early
        C(o) dep p
    }
}
default case S { N = 16 }
"""


def _cases(tmp_path: Path) -> list[tuple[Path, str]]:
    early = tmp_path / "early_spmd.pto"
    early.write_text(EARLY)
    return [(early, "S")] + [
        (path, name) for path in sorted(EXAMPLES.rglob("*.pto"))
        for name in case_names(front_end(read_source(path)).program)
        if path.parent.name != "paged_attention" or name not in FULL_SIZE]


def _run(path: Path, case: str, block_dim: int, tensormap: str = "merged") -> object:
    """What a run shows: every span, the makespan, the critical path, the counts, and the
    stats pto-run writes (--stats-json)."""
    checked = front_end(read_source(path))
    params = dataclasses.replace(TARGET_PARAMS[checked.dialect.name], block_dim=block_dim)
    try:
        result = simulate(checked, case, SimOptions(numerics=False, params=params,
                                                    tensormap_rule=tensormap))
    except CompileError as exc:
        return [d.message for d in exc.diagnostics]
    rt = result.runtime
    return ([(s.seq, s.core, s.start, s.end, s.cp_prev) for s in rt.sched.schedule or ()],
            rt.makespan, rt.critical_path, rt.critical_end, rt.sched.staged_blocks,
            rt.sched.busy, dict(rt.counts.wired), [r.peak_live for r in rt.rings],
            to_json(stats(result)))


@pytest.mark.parametrize(("block_dim", "tensormap"),
                         [(24, "merged"), (1, "merged"), (24, "boundary")])
def test_fast_paths_schedule_as_the_general_ones(block_dim: int, tensormap: str,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's fast dispatch and ready queueing, and the runtime's skipped no-op
    calls of a submit (Runtime.fast_submit), against the general paths."""
    spmd = 0
    for path, case in _cases(tmp_path):
        fast = _run(path, case, block_dim, tensormap)
        with monkeypatch.context() as m:
            m.setattr(Scheduler, "fast_dispatch", False)
            m.setattr(Runtime, "fast_submit", False)
            general = _run(path, case, block_dim, tensormap)
        assert fast == general, (path, case)
        spmd += "spmd" in path.name
    assert spmd  # SPMD tasks (several blocks of one-core shapes) among them
    early = _run(tmp_path / "early_spmd.pto", "S", block_dim, tensormap)
    assert isinstance(early, tuple) and early[4] == 1  # its consumer's block was staged


def _counts(limit: int | None) -> list[int]:
    return [0, 1, 3] if limit is None else [0, limit - 1, limit, limit + 1]


@pytest.mark.parametrize("limits", [V0_LIMITS, ArgLimits(32, 16, None)])
def test_arg_of_is_the_builder_called_in_order(limits: ArgLimits) -> None:
    """Arg.of (what the lowering calls) holds what add_tensors, add_scalar and add_dep
    make, at each limit and past it (the first misuse's message latched)."""
    for tensors, scalars, deps in itertools.product(_counts(limits.tensors),
                                                    _counts(limits.scalars),
                                                    _counts(limits.deps)):
        kinds = [TensorArgType.INPUT, TensorArgType.OUTPUT, TensorArgType.INOUT]
        tags = [kinds[i % 3] for i in range(tensors)]
        items: list[Any] = [make_tensor_external(0x1000 * (i + 1), (4,), "f32")
                            for i in range(tensors)]
        values: list[int | float | bool] = [float(i) for i in range(scalars)]
        ids = list(range(deps))
        general = Arg(limits)
        general.add_tensors(tags, items)
        general.add_scalar(*values)
        general.add_dep(*ids)
        fast = Arg.of(limits, tags, list(items), list(values), list(ids))
        assert {k: getattr(fast, k) for k in Arg.__slots__} == \
            {k: getattr(general, k) for k in Arg.__slots__}, (tensors, scalars, deps)
