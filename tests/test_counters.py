"""Counters as the runtime's profiling build reports them: TensorMap lookups and inserts
per target (v0 counts every lookup call; the current runtime only lookups that reach a
bucket an insert has used), measured on the paged-attention examples."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from pto_dsl.cli import check_main
from pto_dsl.cli_graph import main as graph_main
from pto_dsl.cli_run import main as run_main
from pto_dsl.costs import DEFAULT_COST_CYCLES
from pto_dsl.dialects import LookupCount, OverlapRule
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.regions import Region, classifier
from pto_dsl.sim.params import DEFAULT_PARAMS
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.sim.tmap import RuntimeTensorMap
from pto_dsl.viz import analysis, deps_json

PA = Path(__file__).resolve().parent.parent / "examples" / "paged_attention"

# (program, case) -> lookups/inserts the runtime's profiling build measured, per target
MEASURED = {
    ("auto", "CaseSmall1"): {"v0": (40, 12), "current": (8, 12)},
    ("auto", "CaseSmall2"): {"v0": (105, 32), "current": (28, 32)},
    ("manual", "CaseSmall1"): {"v0": (4, 0), "current": (0, 0)},
    ("manual", "CaseSmall2"): {"v0": (9, 0), "current": (0, 0)},
}


@pytest.mark.parametrize("dialect", ["v0", "current"])
@pytest.mark.parametrize(("program", "case"), sorted(MEASURED))
def test_stats_json_counts_lookups_as_the_target_does(tmp_path: Path, program: str,
                                                      case: str, dialect: str) -> None:
    out = tmp_path / "stats.json"
    assert run_main([str(PA / f"{program}.pto"), "--case", case, "--dialect", dialect,
                     "--no-numerics", "--stats-json", str(out)]) == 0
    stats = json.loads(out.read_text())
    assert (stats["tensormap_lookups"], stats["tensormap_inserts"]) == \
        MEASURED[program, case][dialect]


FLAT = classifier(OverlapRule.FLAT_THEN_BOX)


def test_a_bucket_counts_once_used_even_after_its_entries_are_gone() -> None:
    """The current runtime's epoch check: a bucket stays initialised for the run."""
    alive = [0]
    region = Region((4,), (0,), (4,))
    tmap = RuntimeTensorMap(1, lambda r: alive[0], FLAT, LookupCount.NONEMPTY_BUCKET)
    assert tmap.lookup(0x100, region, 0, False, 4) == [] and tmap.lookups == 0
    tmap.insert(0x100, region, 0, producer=7, ring=0, local=0)
    assert tmap.lookup(0x200, region, 0, False, 4) == [] and tmap.lookups == 0  # other bucket
    assert tmap.lookup(0x100, region, 0, True, 4) == [7] and tmap.lookups == 1  # removes it
    assert tmap.lookup(0x100, region, 0, False, 4) == [] and tmap.lookups == 2
    every = RuntimeTensorMap(1, lambda r: alive[0], FLAT, LookupCount.EVERY_CALL)
    every.lookup(0x100, region, 0, False, 4)
    assert every.lookups == 1


# ---- one unit for edges in every tool ------------------------------------------------

AUTO_SMALL1 = ("17 dependency pairs", "23 deps.json edge records (15 creator + 8 tensormap)")


def test_every_tool_names_both_edge_units_alike(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    auto = str(PA / "auto.pto")
    stats = tmp_path / "stats.json"
    assert check_main([auto, "--case", "CaseSmall1"]) == 0
    checked_out = capsys.readouterr().out
    assert graph_main([auto, "--case", "CaseSmall1", "-o", str(tmp_path / "x.json")]) == 0
    graph_out = capsys.readouterr().out
    assert run_main([auto, "--case", "CaseSmall1", "--no-numerics",
                     "--stats-json", str(stats)]) == 0
    run_out = capsys.readouterr().out
    for out in (checked_out, graph_out, run_out):
        assert all(unit in out for unit in AUTO_SMALL1), out
    doc = json.loads((tmp_path / "x.json").read_text())
    assert len(doc["edges"]) == 23  # the deps.json count is one of the printed ones
    s = json.loads(stats.read_text())
    assert s["dependency_pairs"]["total"] == 17
    assert s["deps_json_records"] == {"total": 23, "explicit": 0, "creator": 15,
                                      "tensormap": 8}


# the corpus's dummy tasks lie on critical paths (pto-run once stopped its chain at the first
# one, as a dependency-only task has no row in the schedule); the decoders are left out for
# time, their critical path is the same rule on more tasks
EXAMPLES = sorted((PA.parent / "teaching").glob("*.pto")) + sorted(PA.glob("*.pto")) + [
    p for p in sorted((PA.parent / "corpus").glob("*.pto"))
    if "decode" not in p.name and p.name != "scalar_data.pto"]  # (needs numerics)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_tools_agree_on_counts_and_critical_path(path: Path) -> None:
    """pto-check/pto-graph's graph, the deps.json export and pto-run's model count the
    same pairs and records and find the same critical path (nested_scopes.pto once gave
    7 tasks in pto-graph, with the alloc task, and 6 in pto-run)."""
    checked = front_end(read_source(path))
    graph = instantiate_case(checked, None)
    doc = deps_json.export(checked.program, graph)
    assert Counter(e["source"] for e in doc["edges"]) == +graph.records
    found = analysis.analyse(checked.program, graph, [])
    result = simulate(checked, None, SimOptions(numerics=False))
    rt = result.runtime
    assert rt.counts.pairs == graph.edge_count()
    assert +rt.counts.records == +graph.records
    assert [row.seq for row in result.critical_path()] == found.critical
    assert rt.critical_cycles == found.critical_cost
    assert all(graph.task(t).core != "alloc" for t in found.critical)


def test_nested_scopes_critical_path_is_six_kernel_tasks() -> None:
    checked = front_end(read_source(PA.parent / "teaching" / "nested_scopes.pto"))
    graph = instantiate_case(checked, None)
    found = analysis.analyse(checked.program, graph, [])
    assert [graph.task(t).kernel for t in found.critical] == \
        ["INIT"] + ["ACCUM"] * 4 + ["STORE"]


def test_a_kernel_without_cost_weighs_the_same_in_both_tools(tmp_path: Path) -> None:
    path = tmp_path / "k.pto"
    path.write_text("kernel K aiv 0 (in x: f32[N], out y: f32[N])\n"
                    "entry e(in x: f32[N], out y: f32[N]) { K(x, y) }\n"
                    "default case c { N = 4 }\n")
    checked = front_end(read_source(path))
    found = analysis.analyse(checked.program, instantiate_case(checked, None), [])
    rt = simulate(checked, None, SimOptions(numerics=False)).runtime
    assert found.critical_cost == rt.critical_cycles == DEFAULT_COST_CYCLES


def test_counts_and_path_survive_retired_producers_and_reused_heap() -> None:
    """A slow orchestrator: every UP retires before the next is submitted and the heap
    hands the accumulators' space to the next batch. Skipped edges still count as pairs
    and records, and no dependency is invented through a reused address."""
    checked = front_end(read_source(PA / "auto.pto"))
    graph = instantiate_case(checked, "CaseVarSeq4")
    found = analysis.analyse(checked.program, graph, [])
    slow = dataclasses.replace(DEFAULT_PARAMS, submit_ns=20000.0, heap_size=16384)
    result = simulate(checked, "CaseVarSeq4", SimOptions(numerics=False, params=slow))
    rt = result.runtime
    assert rt.counts.retired["tensormap"] > 0 and rt.counts.wired["tensormap"] == 0
    assert rt.counts.pairs == graph.edge_count()
    assert +rt.counts.records == +graph.records
    assert [row.seq for row in result.critical_path()] == found.critical


def test_pairs_by_origin_count_each_origin_of_a_pair_as_pto_check(tmp_path: Path) -> None:
    """An explicit dep on a producer that is also the creator: one pair, two origins,
    one deps.json record (the explicit one)."""
    path = tmp_path / "dep.pto"
    path.write_text("kernel P aiv 0 (out y: f32[N])\n"
                    "kernel C aiv 1 (in a: f32[N], out w: f32[N])\n"
                    "entry e(out o: f32[N]) {\n    let p = P(new f32[N])\n"
                    "    C(p.y, o) dep p\n}\ndefault case S { N = 16 }\n")
    checked = front_end(read_source(path))
    graph = instantiate_case(checked, None)
    stats_path = tmp_path / "s.json"
    assert run_main([str(path), "--no-numerics", "--stats-json", str(stats_path)]) == 0
    pairs = json.loads(stats_path.read_text())["dependency_pairs"]
    assert pairs["total"] == graph.edge_count() == 1
    assert pairs["by_origin"] == {"explicit": 1, "creator": 1, "tensormap": 0}
    assert dict(graph.edges_by_origin()) == {"explicit": 1, "creator": 1}
    assert +graph.records == Counter(explicit=1)
