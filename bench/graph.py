"""Benchmark: pto-graph on the full-size paged-attention cases, stage by stage.

Run from the repository root with `python bench/graph.py` (see docs/graph.md). For each
(example, case) it times the stages pto-graph runs, then the whole tool end to end
(`pto-graph FILE --case CASE -o OUT`, in-process) for each output format, and checks the
end-to-end time against the 10 s target for summary mode.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pto_dsl.cli_graph import main as graph_main
from pto_dsl.pipeline import front_end, instantiate_case, read_source
from pto_dsl.safety import run_graph_checks
from pto_dsl.viz import deps_json, graphviz
from pto_dsl.viz.analysis import analyse
from pto_dsl.viz.dot import to_dot
from pto_dsl.viz.view import summary_view

ROOT = Path(__file__).resolve().parent.parent
TARGETS = (("examples/paged_attention/manual.pto", "Case1"),
           ("examples/paged_attention/auto.pto", "Case1"))
FORMATS = (".svg", ".png", ".html", ".json")
TARGET_S = 10.0

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def stages(path: Path, case: str) -> list[tuple[str, float, str]]:
    """(stage, seconds, what it produced) for one case."""
    rows: list[tuple[str, float, str]] = []
    t, checked = timed(lambda: front_end(read_source(path)))
    rows.append(("front end", t, f"{len(checked.program.sites)} sites"))
    t, graph = timed(lambda: instantiate_case(checked, case))
    rows.append(("instantiate", t, f"{len(graph)} tasks, {graph.edge_count()} dependency pairs"))
    t, diags = timed(lambda: run_graph_checks(checked.program, graph))
    rows.append(("graph checks", t, f"{len(diags)} diagnostics"))
    t, found = timed(lambda: analyse(checked.program, graph, diags))
    rows.append(("costs, critical path, marks", t,
                 f"{len(found.races)} races, path of {len(found.critical)} tasks"))
    t, view = timed(lambda: summary_view(checked.program, graph, found, "bench"))
    rows.append(("summary view", t, f"{len(view.nodes)} nodes, {len(view.edges)} edges"))
    t, dot = timed(lambda: to_dot(view))
    rows.append(("DOT text", t, f"{len(dot)} bytes"))
    if graphviz.dot_path() is not None:
        t, svg = timed(lambda: graphviz.render(dot, "svg"))
        rows.append(("dot -Tsvg", t, f"{len(svg)} bytes"))
    t, doc = timed(lambda: json.dumps(deps_json.export(checked.program, graph)))
    rows.append(("deps.json export", t, f"{len(doc) / 1e6:.1f} MB"))
    return rows


def end_to_end(path: Path, case: str, fmt: str, where: Path,
               extra: Sequence[str] = ()) -> tuple[float, int]:
    out = where / f"graph{fmt}"
    sink = io.StringIO()
    argv = [str(path), "--case", case, "-o", str(out), *extra]
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        t, code = timed(lambda: graph_main(argv))
    return t, code


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help="end-to-end output formats (default: %(default)s)")
    args = p.parse_args(argv)
    sep = " | " if args.markdown else "  "
    slow = False
    for file, case in TARGETS:
        print(f"\n{file} --case {case}\n")
        if args.markdown:
            print("| stage | s | result |\n|---|---:|---|")
        for name, t, what in stages(ROOT / file, case):
            cells = [name.ljust(34), f"{t:7.2f}", what]
            print(("| " + sep.join(cells) + " |") if args.markdown else sep.join(cells))
        print()
        if args.markdown:
            print("| pto-graph -o | s | exit |\n|---|---:|---:|")
        with tempfile.TemporaryDirectory() as tmp:
            runs: list[tuple[str, tuple[str, ...]]] = [(f, ()) for f in args.formats.split(",")]
            runs.append((".svg", ("--collapse", "ends")))
            for fmt, extra in runs:
                t, code = end_to_end(ROOT / file, case, fmt, Path(tmp), extra)
                slow = slow or (fmt != ".json" and t > TARGET_S)
                cells = [" ".join([f"graph{fmt}", *extra]).ljust(34), f"{t:7.2f}", str(code)]
                print(("| " + sep.join(cells) + " |") if args.markdown else sep.join(cells))
    verdict = "MISSED" if slow else "met"
    print(f"\nsummary-mode pictures under {TARGET_S:g} s: {verdict}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
