"""pto-graph: pictures and interchange files of a program's task graph (docs/graph.md).

Writes one case's task graph as DOT, SVG, PNG, a self-contained HTML page, or the
runtime's deps.json (format by extension), and compares edges with a runtime-captured
deps.json (`--diff`). Graph-check findings (races) are drawn, not fatal: the file is
written and the exit code still reports them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pto_dsl import cli_record
from pto_dsl.cli import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    ToolParser,
    UsageError,
    guarded,
    load_program,
    positive,
    progress_of,
    tool_parser,
)
from pto_dsl.diagnostics import Diagnostic
from pto_dsl.files import check_output, write_atomic
from pto_dsl.viz.output import FORMATS

if TYPE_CHECKING:  # the graph and its views are imported when the tool runs
    from pto_dsl.graph import TaskGraph
    from pto_dsl.pipeline import Checked
    from pto_dsl.viz.analysis import Findings
    from pto_dsl.viz.view import View

DEFAULT_SUMMARY_ABOVE = 400


def _parser() -> ToolParser:
    p = tool_parser("pto-graph", "Draw a case's task graph (scopes, races, redundant deps, "
                    "critical path) or write it as the runtime's deps.json.")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="output file; the format comes from the extension: "
                   + ", ".join(FORMATS))
    p.add_argument("--summary", choices=("auto", "always", "never"), default="auto",
                   help="collapse loop iterations as --collapse says: always, never, or "
                   "(auto, the default) above --summary-above tasks")
    p.add_argument("--summary-above", type=positive, default=DEFAULT_SUMMARY_ABOVE,
                   metavar="N", help="the size above which --summary auto collapses "
                   "(default: %(default)s)")
    p.add_argument("--collapse", choices=("sites", "ends"), default="sites",
                   help="how a summary collapses: one node per submission site (sites, the "
                   "default), or the first and last --keep iterations of every loop with "
                   "an ellipsis node for the rest (ends)")
    p.add_argument("--keep", type=positive, default=1, metavar="N",
                   help="iterations kept at each end of a loop by --collapse ends "
                   "(default: %(default)s)")
    p.add_argument("--diff", type=Path, metavar="DEPS_JSON",
                   help="compare the graph's deps.json edge records (tasks, argument, "
                   "source, flags, overlap) with a deps.json captured by the runtime (exit 1 "
                   "if they differ)")
    cli_record.add_options(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = _parser()
    args = p.parse(argv)
    if args.output is None and args.diff is None:
        p.error("nothing to do: give -o OUT and/or --diff DEPS_JSON")
    if args.output is not None and args.output.suffix.lower() not in FORMATS:
        p.error(f"cannot tell the format of '{args.output}': use one of "
                + ", ".join(FORMATS))
    info = sys.stderr if args.json else sys.stdout

    def body(diags: list[Diagnostic]) -> int:
        from pto_dsl.pipeline import instantiate_case
        from pto_dsl.safety import run_graph_checks

        if args.signature is not None:  # a C++ orchestration: record its graph
            _check_paths(args)
            try:
                recorded = cli_record.record_one(args, diags)
            except cli_record.Unavailable as exc:
                print(f"pto-graph: {exc}", file=sys.stderr)
                return EXIT_UNAVAILABLE
            checked, graph = recorded.checked, recorded.graph
        else:
            checked = load_program(args, diags)
            if not checked.program.cases:
                raise UsageError(f"{args.file} declares no case: pto-graph draws the task "
                                 "graph of a case")
            _check_paths(args)
            graph = instantiate_case(checked, args.case, args.runtime, args.max_tasks,
                                     progress_of("pto-graph", args))
        found = run_graph_checks(checked.program, graph, args.runtime)
        diags.extend(found)
        code = EXIT_ERRORS if any(d.is_error for d in diags) else EXIT_OK
        if args.output is not None:
            code = max(code, _write(args, checked, graph, found, info))
        if args.diff is not None:
            code = max(code, _diff(args, checked, graph, info))
        return code
    return guarded("pto-graph", args, body)


def _check_paths(args: argparse.Namespace) -> None:
    out: Path | None = args.output
    if out is not None:
        check_output(out, f"-o {out}", [p for p in (args.file, args.diff) if p is not None])


def _view(args: argparse.Namespace, checked: Checked, graph: TaskGraph,
          findings: Findings) -> View:
    from pto_dsl.perf import paused_gc

    with paused_gc():  # views of large graphs allocate much that stays alive
        view = _build_view(args, checked, graph, findings)
    view.notes += _notes(graph, findings)
    return view


def _summary(args: argparse.Namespace, graph: TaskGraph) -> bool:
    """Whether the picture collapses (--summary, --summary-above)."""
    mode: str = args.summary
    above: int = args.summary_above
    return mode == "always" or (mode == "auto" and len(graph) > above)


def _build_view(args: argparse.Namespace, checked: Checked, graph: TaskGraph,
                findings: Findings) -> View:
    from pto_dsl.viz.view import full_view, summary_view
    from pto_dsl.viz.view_ends import ends_view

    title = f"{Path(checked.source.name).name}: entry {checked.program.name}, case {graph.case}"
    if not _summary(args, graph):
        return full_view(graph, findings, title)
    if args.collapse == "ends":
        return ends_view(checked.program, graph, findings, title, args.keep)
    return summary_view(checked.program, graph, findings, title)


def _notes(graph: TaskGraph, findings: Findings) -> list[str]:
    """One line each under a picture's title: counts with the first edge unit, the
    critical path, the second edge unit (docs/graph.md)."""
    from pto_dsl.graph import plural, records_text

    return [f"{len(graph)} tasks, {plural(graph.edge_count(), 'dependency pair')}, "
            f"{len(findings.races)} races",
            f"critical path {len(findings.critical)} tasks (cost "
            f"{findings.critical_cost:g})", records_text(graph.records)]


def _write(args: argparse.Namespace, checked: Checked, graph: TaskGraph,
           found: list[Diagnostic], info: TextIO) -> int:
    from pto_dsl.viz import graphviz
    from pto_dsl.viz.analysis import analyse
    from pto_dsl.viz.output import deps_bytes, render

    out: Path = args.output
    fmt = out.suffix.lower()
    findings = analyse(checked.program, graph, found)
    if fmt == ".json":  # the records of the graph: no view to build, only its notes
        stats = "; ".join(_notes(graph, findings))
        _save(out, deps_bytes(checked.program, graph))
        return _wrote(args, out, _summary(args, graph), stats, info)
    view = _view(args, checked, graph, findings)
    stats = "; ".join(view.notes[-3:])
    try:
        data = render(fmt, view, checked.program, graph)
    except (graphviz.GraphvizMissing, graphviz.GraphvizFailed) as exc:
        # Graphviz is outside pto-dsl: keep what can be kept, the DOT text
        fallback = out.with_suffix(".dot")
        _save(fallback, render(".dot", view, checked.program, graph))
        print(f"pto-graph: {exc}\npto-graph: wrote {fallback} instead of {out}",
              file=sys.stderr)
        return EXIT_UNAVAILABLE
    _save(out, data)
    return _wrote(args, out, view.summary, stats, info)


def _wrote(args: argparse.Namespace, out: Path, summary: bool, stats: str,
           info: TextIO) -> int:
    how = "one node per task" if not summary else "one node per submission site" \
        if args.collapse == "sites" else f"first and last {args.keep} iterations"
    print(f"pto-graph: wrote {out} ({how}; {stats})", file=info)
    return EXIT_OK


def _save(path: Path, data: bytes) -> None:
    write_atomic(path, data)


def _diff(args: argparse.Namespace, checked: Checked, graph: TaskGraph, info: TextIO) -> int:
    from pto_dsl.pipeline import read_source
    from pto_dsl.viz import deps_json, diff

    try:
        source = read_source(args.diff)
    except OSError as exc:
        raise UsageError(f"cannot read '{args.diff}': {exc.strerror or exc}") from None
    theirs = diff.load_records(source)
    doc = deps_json.export(checked.program, graph)
    result = diff.diff([diff.record(e) for e in doc["edges"]], theirs)
    ids = deps_json.task_ids(graph)
    print(diff.report(result, graph, ids, f"{Path(checked.source.name).name} case {graph.case}",
                      str(args.diff)), file=info)
    return EXIT_OK if result.same else EXIT_ERRORS
