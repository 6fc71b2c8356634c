"""Benchmark: every section, one command (`python bench/run.py`, see docs/performance.md).

By default it runs section `targets` (bench/targets.py): every speed target of the checker
with its figure, target and MET or MISSED, and the scaling of the full check to 1M tasks;
`--quick` runs each fewer times, `--all` runs every section.

Section `check` times parse, the front end, instantiation and the graph checks of every
bundled example (one row per example and case, median and minimum over repeated runs), the
growth of the full check with the task count, and dependency inference; sections `compile`,
`graph` and `sim` run the benchmarks of pto-compile, pto-graph and pto-run (bench/*.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import runpy
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pto_dsl
from pto_dsl import infer
from pto_dsl import parse as parse_stage
from pto_dsl.cases import case_names, default_case
from pto_dsl.diagnostics import CompileError
from pto_dsl.pipeline import (
    Checked,
    case_values,
    check_graph,
    front_end,
    instantiate_case,
    read_source,
)
from pto_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
LARGE_CASES = ("Case1", "Case2")  # the reference's full-size cases, where a file has them
FRONT_END_TARGET_MS = 50.0
INSTANTIATE_TARGET_MS = 2000.0
TARGET_FILE, TARGET_CASE = "examples/paged_attention/manual.pto", "Case1"
# full check (instantiate + graph checks) of Case1, per file
FULL_CHECK_TARGETS_MS = {TARGET_FILE: 3000.0, "examples/paged_attention/auto.pto": 5000.0}
SCALING_BATCHES = (16, 64, 256)  # manual.pto with Case1's shapes and B sequences

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    median_ms: float
    min_ms: float

    def cell(self) -> str:
        return f"{self.median_ms:.1f} ({self.min_ms:.1f})"


@dataclass(frozen=True)
class Row:
    file: str
    case: str
    parse: Timing | None = None
    front_end: Timing | None = None
    instantiate: Timing | None = None
    graph_checks: Timing | None = None
    tasks: int | None = None
    edges: int | None = None
    note: str = ""


def measure(fn: Callable[[], T], repeat: int) -> tuple[Timing, T]:
    """Run fn `repeat` times after a collection; return the timing and the last result."""
    samples: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        result = None  # free the previous result (large graphs) before the next run
        gc.collect()
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    assert result is not None
    return Timing(statistics.median(samples), min(samples)), result


def parser_construction(repeat: int) -> Timing:
    """The Lark LALR parser is built once per process; time that build on its own."""
    def build() -> object:
        parse_stage.parser.cache_clear()
        return parse_stage.parser()
    timing, _ = measure(build, repeat)
    return timing


def bench_file(path: Path, repeat: int, large_repeat: int, large: bool) -> list[Row]:
    name = str(path.relative_to(ROOT))
    source = read_source(path, name)
    try:
        parse_t, _ = measure(lambda: parse_stage.parse(source), repeat)
        front_t, checked = measure(lambda: front_end(source), repeat)
    except CompileError as exc:
        return [Row(name, "-", note=f"front end failed: {len(exc.diagnostics)} diagnostics")]
    case = default_case(checked.program)
    if case is None:
        return [Row(name, "(no case)", parse_t, front_t, note="no case to instantiate")]
    rows = [_instantiate_row(checked, name, case.name.name, repeat, parse_t, front_t)]
    if large:
        rows += [_instantiate_row(checked, name, extra, large_repeat)
                 for extra in LARGE_CASES
                 if extra in case_names(checked.program) and extra != case.name.name]
    return rows


def _instantiate_row(checked: Checked, file: str, case: str, repeat: int,
                     parse_t: Timing | None = None, front_t: Timing | None = None) -> Row:
    try:
        inst_t, graph = measure(lambda: instantiate_case(checked, case), repeat)
        check_t, _ = measure(lambda: (check_graph(checked, graph),), repeat)
    except CompileError as exc:
        return Row(file, case, parse_t, front_t,
                   note=f"instantiation or graph checks failed: {len(exc.diagnostics)} "
                        "diagnostics")
    return Row(file, case, parse_t, front_t, inst_t, check_t, len(graph), graph.edge_count())


def render(rows: Sequence[Row], markdown: bool) -> str:
    head = ["example", "case", "parse ms", "front end ms", "instantiate ms", "graph checks ms",
            "tasks", "dependency pairs"]
    body = [[r.file, r.case, *(t.cell() if t else "-" for t in (r.parse, r.front_end,
             r.instantiate, r.graph_checks)), _count(r.tasks), _count(r.edges)] for r in rows]
    notes = [f"  {r.note}" if r.note else "" for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * 6]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" + note
                                  for cells, note in zip(body, notes, strict=True)])
    widths = [max(len(cells[i]) for cells in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "\n".join([line(head)] + [line(c) + n for c, n in zip(body, notes, strict=True)])


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def verdicts(rows: Sequence[Row]) -> list[str]:
    """Say plainly whether each performance target is met by these measurements."""
    out: list[str] = []
    checked = [r for r in rows if r.front_end is not None]
    if checked:
        worst = max(checked, key=lambda r: r.front_end.median_ms if r.front_end else 0.0)
        assert worst.front_end is not None
        ok = worst.front_end.median_ms < FRONT_END_TARGET_MS
        out.append(f"parse + check of each example under {FRONT_END_TARGET_MS:.0f} ms: "
                   f"{'MET' if ok else 'NOT MET'} (slowest {worst.file}: "
                   f"{worst.front_end.median_ms:.1f} ms median)")
    target = [r for r in rows if r.file == TARGET_FILE and r.case == TARGET_CASE]
    if target and target[0].instantiate is not None:
        ms = target[0].instantiate.median_ms
        ok = ms < INSTANTIATE_TARGET_MS
        out.append(f"instantiate {TARGET_CASE} of {TARGET_FILE} under "
                   f"{INSTANTIATE_TARGET_MS / 1000:.0f} s: {'MET' if ok else 'NOT MET'} "
                   f"({ms:.0f} ms median)")
    else:
        out.append(f"instantiate {TARGET_CASE} of {TARGET_FILE}: not measured")
    for file, limit in FULL_CHECK_TARGETS_MS.items():
        found = [r for r in rows if r.file == file and r.case == TARGET_CASE]
        if found and found[0].instantiate and found[0].graph_checks:
            ms = found[0].instantiate.median_ms + found[0].graph_checks.median_ms
            out.append(f"full check (instantiate + graph checks) of {TARGET_CASE} of {file} "
                       f"under {limit / 1000:.0f} s: {'MET' if ms < limit else 'NOT MET'} "
                       f"({ms:.0f} ms, sum of medians)")
    return out


def scaling(repeat: int, markdown: bool) -> str:
    """Full-check cost of manual.pto as the task count grows (Case1's shapes, B varied)."""
    path = ROOT / TARGET_FILE
    text = path.read_text("utf-8")
    head = ["B", "tasks", "instantiate ms", "graph checks ms", "µs per task"]
    body = []
    for b in SCALING_BATCHES:
        case = (f"\ncase Scale{b} {{\n    B = {b}, H = 16, D = 128, BS = 128, MMB = 256, "
                f"TB = {b * 64}\n    context_lens = fill(8192)\n    block_table = randint(0, TB)"
                "\n    query = uniform(-0.5, 0.5), key_cache = uniform(-0.5, 0.5), "
                "value_cache = uniform(-1, 1)\n    scale = 1.0\n}\n")
        row = _instantiate_row(front_end(SourceFile(TARGET_FILE, text + case)), TARGET_FILE,
                               f"Scale{b}", repeat)
        assert row.instantiate and row.graph_checks and row.tasks, row.note
        per_task = (row.instantiate.median_ms + row.graph_checks.median_ms) * 1000 / row.tasks
        body.append([str(b), f"{row.tasks:,}", row.instantiate.cell(), row.graph_checks.cell(),
                     f"{per_task:.1f}"])
    return _table(head, body, markdown)


def inference(repeat: int) -> str:
    """`pto-check --suggest-deps` on manual.pto: dependency inference from all six cases."""
    path = ROOT / TARGET_FILE
    checked = front_end(read_source(path, TARGET_FILE))
    names = case_names(checked.program)
    chosen = infer.targets(checked.program, every_manual=True)

    def run() -> object:
        values = [case_values(checked, name) for name in names]
        return infer.infer(checked.program, values, chosen, keep_written=False)
    timing, _ = measure(run, repeat)
    return (f"dependency inference (--suggest-deps) for {TARGET_FILE}, {len(names)} cases: "
            f"{timing.cell()} ms")


def _table(head: list[str], body: list[list[str]], markdown: bool) -> str:
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
                         + ["| " + " | ".join(cells) + " |" for cells in body])
    widths = [max(len(cells[i]) for cells in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
                     for cells in [head, *body])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=20,
                    help="runs per measurement of the default cases (default: %(default)s)")
    ap.add_argument("--large-repeat", type=int, default=3,
                    help="runs per measurement of Case1/Case2 (default: %(default)s)")
    ap.add_argument("--no-large", action="store_true", help="skip Case1/Case2")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--quick", action="store_true",
                    help="fewer runs per target (section targets)")
    ap.add_argument("--only", choices=SECTIONS, action="append",
                    help=f"run this section (repeatable; one of {', '.join(SECTIONS)}; "
                    "default: targets)")
    ap.add_argument("--all", action="store_true", help="run every section")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.large_repeat < 1:
        ap.error("repeat counts must be at least 1")
    sections = list(SECTIONS) if args.all else args.only or ["targets"]
    print(machine())
    start = time.perf_counter()
    status = 0
    if "check" in sections:
        check_section(args)
    for name in sections:
        if name != "check":  # the tools' own benchmarks, each a script beside this one
            print(f"\n==== {name}: bench/{name}.py\n", flush=True)
            tool_main = runpy.run_path(str(ROOT / "bench" / f"{name}.py"))["main"]
            status |= tool_main(SECTION_ARGS[name](args))
    print(f"\ntotal benchmark time {time.perf_counter() - start:.1f} s")
    return status


# Arguments of each tool benchmark, from this script's options.
SECTION_ARGS: dict[str, Callable[[argparse.Namespace], list[str]]] = {
    "targets": lambda a: (["--quick"] if a.quick else []) + (["--markdown"] if a.markdown
                                                              else []),
    "stages": lambda a: ["--repeat", str(a.large_repeat)] + (["--markdown"] if a.markdown
                                                               else []),
    "compile": lambda a: ["--repeat", str(min(a.repeat, 15))],
    "graph": lambda a: ["--markdown"] if a.markdown else [],
    "sim": lambda a: ["--repeat", str(a.large_repeat)] + (["--markdown"] if a.markdown else []),
    "startup": lambda a: ["--markdown"] if a.markdown else [],
    "numerics": lambda a: ["--repeat", str(a.large_repeat)]
    + (["--markdown"] if a.markdown else []),
}
SECTIONS = ("targets", "stages", "check", "compile", "graph", "sim", "startup", "numerics")


def check_section(args: argparse.Namespace) -> None:
    """pto-check's stages on every example, the full-check scaling and inference."""
    print("==== check: parse, front end, instantiation and graph checks\n")
    print(f"times in ms: median (min) of {args.repeat} runs, {args.large_repeat} for "
          f"{'/'.join(LARGE_CASES)}")
    parse_stage.parser.cache_clear()
    first = _time_once(parse_stage.parser)
    again = parser_construction(min(args.repeat, 5))
    print(f"parser construction (once per process): first {first:.1f} ms, "
          f"rebuilt {again.cell()} ms\n")
    examples = sorted((ROOT / "examples").rglob("*.pto"))
    rows = [row for path in examples
            for row in bench_file(path, args.repeat, args.large_repeat, not args.no_large)]
    print(render(rows, args.markdown))
    print()
    for line in verdicts(rows):
        print(line)
    if not args.no_large:
        print(f"\nscaling of the full check, {TARGET_FILE} with Case1's shapes "
              f"({args.large_repeat} runs):")
        print(scaling(args.large_repeat, args.markdown))
        print()
        print(inference(args.large_repeat))


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        model = models[0] if models else model
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"python {platform.python_version()}, {os.cpu_count()} CPUs ({model}), "
            f"load average {load:.2f}; pto_dsl from {Path(pto_dsl.__file__).parent}")


def _time_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


if __name__ == "__main__":
    sys.exit(main())
