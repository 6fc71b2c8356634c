"""Benchmark: where the time of a full check goes, stage by stage, in CPU seconds.

Run from the repository root with `python bench/stages.py [FILE CASE ...]` (default:
manual.pto and auto.pto, Case1; see docs/performance.md). For each stage the median CPU
time of `--repeat` runs (this process's CPU time, so other load on the machine matters
less than for wall time), then the share of instantiation spent in the TensorMap and region
code (from a profile, one run).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wholeproc import machine, table

from pto_dsl import parse as parse_stage
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.dialects import DEFAULT_RUNTIME
from pto_dsl.perf import paused_gc
from pto_dsl.pipeline import case_values, check_syntax_tree, instantiate_case, read_source
from pto_dsl.safety import GRAPH_CHECKS, GraphCheck
from pto_dsl.sim.run import SimOptions, simulate
from pto_dsl.viz import deps_json
from pto_dsl.viz.analysis import analyse
from pto_dsl.viz.view import summary_view

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("examples/paged_attention/manual.pto", "Case1",
           "examples/paged_attention/auto.pto", "Case1")
T = TypeVar("T")


def cpu(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    samples, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.process_time()
        with paused_gc():  # as the tools run every one of these stages
            result = fn()
        samples.append(time.process_time() - start)
    assert result is not None
    return statistics.median(samples), result


def stages(file: str, case: str, repeat: int) -> list[list[str]]:
    path = ROOT / file
    source = read_source(path, file)
    rows: list[list[str]] = []

    def row(stage: str, seconds: float, what: str) -> None:
        rows.append([stage, f"{seconds:.3f}", what])
    t, tree = cpu(lambda: parse_stage.parse(source), repeat)
    row("parse", t, "Lark tree")
    from pto_dsl.build import build
    t, ast = cpu(lambda: build(tree, source), repeat)
    row("build (AST)", t, "")
    t, checked = cpu(lambda: check_syntax_tree(ast, source), repeat)
    row("lower + structural checks", t, f"{len(checked.program.sites)} sites")
    t, _ = cpu(lambda: case_values(checked, case), repeat)
    row("case values", t, "")
    t, graph = cpu(lambda: instantiate_case(checked, case), repeat)
    row("instantiate", t, f"{len(graph):,} tasks, {graph.edge_count():,} pairs")
    for name, check in GRAPH_CHECKS:
        def run(check: GraphCheck = check) -> tuple[list[Diagnostic]]:
            graph._derived.clear()  # what the checks share is made in the first to need it
            return (check(checked.program, graph, DEFAULT_RUNTIME),)
        t, found = cpu(run, repeat)
        row(f"check: {name}", t, f"{len(found[0])} diagnostics")
    t, found = cpu(lambda: analyse(checked.program, graph, []), repeat)
    row("pto-graph: costs, critical path", t, "")
    t, view = cpu(lambda: summary_view(checked.program, graph, found, "bench"), repeat)
    row("pto-graph: summary view", t, f"{len(view.nodes)} nodes")
    t, data = cpu(lambda: deps_json.export_bytes(checked.program, graph), repeat)
    row("deps.json: records and text", t, f"{len(data) / 1e6:.1f} MB")
    data = b""  # free it before the simulation
    t, _ = cpu(lambda: simulate(checked, case, SimOptions(numerics=False)), repeat)
    row("pto-run --no-numerics: simulate", t, "instantiation included")
    rows.append(["TensorMap and regions, share of instantiate", f"{_share(checked, case):.0%}",
                 "cProfile, one run"])
    return rows


def _share(checked: object, case: str) -> float:
    """The part of instantiation spent in tensormap.py and regions.py (with the functions
    they call), from a profile: its overhead inflates small functions alike."""
    profile = cProfile.Profile()
    profile.enable()
    instantiate_case(checked, case)  # type: ignore[arg-type]
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())  # own times
    mine = sum(v[2] for k, v in stats.items() if k[0].endswith(("tensormap.py", "regions.py",
                                                                   "element_sets.py")))
    return mine / total if total else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("pairs", nargs="*", metavar="FILE CASE", help="programs and cases")
    p.add_argument("--repeat", type=int, default=3, help="runs per stage (default: 3)")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = p.parse_args(argv)
    pairs = args.pairs or list(DEFAULT)
    if len(pairs) % 2:
        p.error("give FILE CASE pairs")
    print(f"# {machine()}; CPU s, median of {args.repeat} runs")
    for file, case in zip(pairs[::2], pairs[1::2], strict=True):
        print(f"\n{file} --case {case}")
        print(table([["stage", "CPU s", "result"], *stages(file, case, args.repeat)],
                    args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
