"""`pto-run --explore` drives the hazards pto-check finds before random schedules: a
double-buffered producer/consumer with a dep on the wrong consumer, whose pairs random
schedules seldom reverse, differs at the first adversarial run, and the report says which
orders of each hazard's task pairs were seen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pto_dsl.cli_run import main
from pto_dsl.pipeline import front_end, read_source
from pto_dsl.safety.hazards import Kind
from pto_dsl.sim import explore as explore_module
from pto_dsl.sim.explore import explore
from pto_dsl.sim.run import SimOptions, simulate

KERNELS = """def produce(x, buf):
    buf[...] = x * 2


def consume(buf, acc):
    acc[...] = acc * 0.5 + buf
"""

# Iteration i fills half i % 2 of `stage` while the consumer of iteration i - 1 reads the
# other half. The producer of iteration i waits for the consumer of iteration i - 3 where it
# should wait for that of i - 2, which reads the same half. The consumer is slow and the
# producer fast, so that consumer has nearly always started (and read) when the producer is
# ready, in the submission-order schedule and in random ones.
DOUBLE_BUFFER = """
kernel PRODUCE aiv 0 (in x: f32[T, C], out buf: f32[T, C]) impl "db:produce" cost 50
kernel CONSUME aiv 1 (in buf: f32[T, C], inout acc: f32[T, C]) impl "db:consume" cost 20000
entry pipeline(in x: f32[N, C], inout stage: f32[S, C], inout out: f32[T, C]) {
    scope manual {
        let prev = none
        let prev2 = none
        let prev3 = none
        for i in 0 .. N / T {
            let half = stage[(i % 2) * T : (i % 2) * T + T, :]
            let p = PRODUCE(x[i * T : i * T + T, :], half) dep prev3
            let c = CONSUME(half, out) dep p, prev
            prev3 = prev2
            prev2 = prev
            prev = c
        }
    }
}
default case Small { N = 512, T = 32, S = 64, C = 16, x = uniform(-1, 1) }
"""


def _program(tmp_path: Path) -> Path:
    (tmp_path / "db.py").write_text(KERNELS)
    path = tmp_path / "double_buffer.pto"
    path.write_text(DOUBLE_BUFFER)
    return path


@pytest.mark.parametrize("block_dim", [[], ["--block-dim", "1"]], ids=["24", "1"])
def test_default_explore_finds_the_double_buffer_race(
        tmp_path: Path, block_dim: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_program(tmp_path)), "--explore", "30", *block_dim]) == 1
    out = capsys.readouterr().out
    summary = re.search(r"explore +30 schedules \((\d+) adversarial for 2 unordered "
                        r"hazards, (\d+) random\): outputs DIFFER", out)
    assert summary and int(summary[1]) >= 1 and int(summary[1]) + int(summary[2]) == 30
    assert ("hazard          PRODUCE after CONSUME (write after read, line 11): 14 pairs; "
            "both orders seen in 14, only the submitted one in 0, only the reversed one "
            "in 0") in out
    assert "out: seed 0 and adversarial run 1 differ in 512 elements" in out


def test_random_schedules_alone_reverse_few_pairs(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the adversarial runs exist: 30 random schedules reverse few of the 14 pairs of
    each hazard (the first iterations', whose producers have no dep at all), where the
    default exploration sees all of them in both orders."""
    monkeypatch.setattr(explore_module, "_next_round", lambda *args: [])
    found = explore(front_end(read_source(_program(tmp_path))), None, SimOptions(), 30)
    assert found.adversarial == 0
    war = next(h for h in found.hazards if h.kind is Kind.WAR)
    assert war.pairs == war.as_submitted == 14 and war.reversed <= 3
    monkeypatch.undo()
    found = explore(front_end(read_source(_program(tmp_path))), None, SimOptions(), 30)
    war = next(h for h in found.hazards if h.kind is Kind.WAR)
    assert war.both == 14 and found.differences[0].runs == ("seed 0", "adversarial run 1")


def test_no_hazard_means_random_runs_only() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "teaching" / "chain.pto"
    found = explore(front_end(read_source(path)), None, SimOptions(), 3)
    assert found.runs == 3 and found.adversarial == 0 and found.hazards == []


def test_a_small_budget_still_drives_the_hazards_first(tmp_path: Path) -> None:
    found = explore(front_end(read_source(_program(tmp_path))), None, SimOptions(), 2)
    assert found.runs == 2 and found.adversarial == 1
    assert "out" in {d.output for d in found.differences}


def test_a_held_task_starts_after_its_delay() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "teaching" / "chain.pto"
    checked = front_end(read_source(path))
    plain = simulate(checked, None, SimOptions())
    held = simulate(checked, None, SimOptions(holds={0: 5e6}))
    spans = {s.seq: s for s in held.runtime.sched.schedule or ()}
    assert spans[0].start >= 5e6 and held.passed
    assert held.runtime.makespan > plain.runtime.makespan + 5e6 - 1


def test_a_round_never_delays_a_task_it_wants_first() -> None:
    pair = explore_module._Pair
    pairs = [pair(Kind.RAW, 1, 2), pair(Kind.RAW, 2, 3), pair(Kind.WAR, 4, 5)]
    seen: dict[explore_module._Pair, set[bool]] = {p: set() for p in pairs}
    tries: dict[tuple[explore_module._Pair, bool], int] = {}

    def drives() -> list[tuple[int, bool, bool]]:  # (delayed task, reversed?, stretched?)
        return [(d.delayed, d.reversed, d.stretch)
                for d in explore_module._next_round(pairs, seen, tries)]
    # 2 is wanted first for (1, 2), so (2, 3) waits; a RAW's writer runs long, a WAR's
    # reader is held back
    assert drives() == [(1, True, True), (4, True, False)]
    seen[pairs[0]].add(True)
    seen[pairs[2]].add(True)
    # seen only reversed: the later task is held back for the submitted order; (2, 3) can
    # now come along, as 2 is delayed for both
    assert drives() == [(2, False, False), (2, True, True), (5, False, False)]
    seen[pairs[0]].add(False)
    seen[pairs[2]].add(False)
    assert drives() == [(2, True, True)]  # (2, 3)'s second try of the reversed order
    assert drives() == [(3, False, False)]
    assert drives() == [(3, False, False)]
    assert drives() == []  # two tries of each order
