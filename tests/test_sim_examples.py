"""pto-run's model against the static graph and the goldens: the edges the runtime model
discovers equal the static task graph's edges for every example and case, and the
paged-attention variants compute the golden's numbers."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import pytest

from pto_dsl.cases import case_names
from pto_dsl.dialects import LookupCount
from pto_dsl.graph import TaskGraph
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.sim.explore import explore
from pto_dsl.sim.params import DEFAULT_PARAMS
from pto_dsl.sim.record import EdgeRecorder
from pto_dsl.sim.run import SimOptions, simulate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PA = EXAMPLES / "paged_attention"


def _cases() -> list[tuple[Path, str]]:
    """Every example and every case, the reference's full-size ones included."""
    return [(path, name) for path in sorted(EXAMPLES.rglob("*.pto"))
            for name in case_names(front_end(read_source(path)).program)]


def _static_edges(g: TaskGraph) -> dict[tuple[int, int], set[str]]:
    return {(p, c): {o.value for o in origins} for p, c, origins in g.edges()}


@pytest.mark.parametrize(("path", "case"), _cases(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_model_edges_equal_static_graph(path: Path, case: str) -> None:
    checked = front_end(read_source(path))
    graph = instantiate_case(checked, case)
    recorder = EdgeRecorder()
    # a program that reads what its tasks computed needs their numbers to run at all
    computed = any(not r.write and r.waited for r in graph.host_reads)
    result = simulate(checked, case, SimOptions(numerics=computed, recorder=recorder))
    assert recorder.tasks == len(graph)
    assert recorder.all_edges() == _static_edges(graph)
    # the runtime's counters follow the same rules as the static TensorMap (reference §4);
    # the static map counts every lookup call, the current target only the lookups that
    # reach a bucket some insert has used (tests/test_counters.py pins both)
    if checked.dialect.rules.lookup_count is LookupCount.EVERY_CALL:
        assert result.runtime.tmap.lookups == graph.tensormap_lookups
    else:
        assert result.runtime.tmap.lookups <= graph.tensormap_lookups
    assert result.runtime.tmap.inserts == graph.tensormap_inserts


PA_CASES = [(v, c) for v in ("auto", "manual")
            for c in ("CaseSmall1", "CaseSmall2", "CaseVarSeq2", "CaseVarSeq4")] + [
    ("unroll_auto", "Small"), ("unroll_manual", "Small")]


@pytest.mark.parametrize(("variant", "case"), PA_CASES)
def test_paged_attention_matches_golden(variant: str, case: str) -> None:
    result = simulate(front_end(read_source(PA / f"{variant}.pto")), case, SimOptions())
    assert result.checks is not None and [c.name for c in result.checks] == ["out"]
    assert result.passed, result.checks
    out = result.outputs["out"]
    assert out.any() and not (out != out).any()  # computed, no NaN left


@pytest.mark.parametrize("path", sorted((EXAMPLES / "teaching").glob("*.pto")),
                         ids=lambda p: p.name)
def test_teaching_examples_match_golden(path: Path) -> None:
    result = simulate(front_end(read_source(path)), None, SimOptions())
    assert result.checks and result.passed, result.checks


@pytest.mark.parametrize("path", [PA / "manual.pto", PA / "auto.pto", PA / "unroll_manual.pto",
                                  PA / "unroll_auto.pto", *sorted((EXAMPLES / "teaching").glob(
                                      "*.pto"))], ids=lambda p: p.name)
def test_exploration_finds_no_difference_on_the_examples(path: Path) -> None:
    found = explore(front_end(read_source(path)), None, SimOptions(), runs=4)
    assert found.runs == 4 and found.differences == [] and found.failures == []


def test_critical_path_follows_dependencies_through_retired_producers() -> None:
    # With an orchestrator slow enough that each UP has retired before the next one is
    # submitted, the runtime skips the UP -> UP TensorMap edges; the chain still runs
    # through them.
    slow = dataclasses.replace(DEFAULT_PARAMS, submit_ns=20000.0)
    result = simulate(front_end(read_source(PA / "auto.pto")), "CaseVarSeq4",
                      SimOptions(numerics=False, params=slow))
    counts = result.runtime.counts
    assert counts.wired["tensormap"] == 0 and counts.retired["tensormap"]
    chain = [row.kernel for row in result.critical_path()]
    assert chain == ["QK", "SF", "PV"] + ["UP"] * 8  # the batch with 8 blocks
    rows = result.critical_path()
    assert all(a.end_us <= b.start_us for a, b in pairwise(rows))
