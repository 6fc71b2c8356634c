"""Benchmark: the speed targets of the checker, each row measured as its target says
(whole `pto-*` processes unless a row says "in process"), then the scaling of the full check
from 4k to 1M tasks.

Run from the repository root with `python bench/targets.py` or `python bench/run.py` (see
docs/performance.md). Each row prints the median (and minimum) of its runs, its target and
MET or MISSED; the exit status is 1 when a target is missed. `--quick` runs fewer times.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_program
from wholeproc import machine, measure, table

from pto_dsl.pipeline import check_graph, front_end, instantiate_case, read_source

ROOT = Path(__file__).resolve().parent.parent
PA = "examples/paged_attention"
MANUAL, AUTO = f"{PA}/manual.pto", f"{PA}/auto.pto"
MIB_LIMIT = 2048.0


@dataclass(frozen=True)
class Result:
    seconds: list[float]  # wall time of each run
    cpu: list[float]  # CPU time (user + system) of each run
    peak_mib: float | None = None  # whole processes only

    def cell(self) -> str:
        s = f"{statistics.median(self.seconds):.2f} s ({min(self.seconds):.2f})"
        return s if self.peak_mib is None else f"{s}, {self.peak_mib:,.0f} MiB"

    def cpu_cell(self) -> str:
        return f"{statistics.median(self.cpu):.2f} s"


@dataclass(frozen=True)
class Target:
    measure: str
    before: str  # the figure before this work, as the targets were set
    limit_s: float
    run: Callable[[int], Result]  # runs -> result
    big: bool = False  # the 1M-task row: fewer runs, and a memory limit

    def verdict(self, result: Result) -> bool:
        ok = statistics.median(result.seconds) <= self.limit_s
        return ok and (result.peak_mib is None or result.peak_mib <= MIB_LIMIT)

    def target(self) -> str:
        return f"≤ {self.limit_s:g} s" + (f", ≤ {MIB_LIMIT:,.0f} MiB" if self.big else "")


def full_check_in_process(file: str, case: str) -> Callable[[int], Result]:
    """Instantiate the case (its values included) and run every graph check, in process;
    the front end runs once, before the timed runs."""
    def run(repeat: int) -> Result:
        checked = front_end(read_source(ROOT / file, file))
        samples, cpu = [], []
        for _ in range(repeat):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            check_graph(checked, instantiate_case(checked, case))
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return Result(samples, cpu)
    return run


def tool(name: str) -> str:
    here = Path(sys.executable).parent
    return shutil.which(name, path=str(here)) or shutil.which(name) or name


def whole_process(name: str, *args: str) -> Callable[[int], Result]:
    """A `pto-*` command as a whole process: wall time, peak resident memory of the runs."""
    def run(repeat: int) -> Result:
        with tempfile.TemporaryDirectory() as tmp:
            argv = [tool(name), *(a.replace("{tmp}", tmp) for a in args)]
            figures = measure(argv, repeat, warmup=0)
        failed = [s for s in figures.samples if s.exit not in (0,)]
        if failed:
            raise SystemExit(f"{' '.join(argv)} exited {failed[0].exit}:\n{failed[0].output}")
        return Result([s.wall for s in figures.samples], [s.cpu for s in figures.samples],
                      figures.peak_mib)
    return run


def scale_case() -> str:
    return scale_program.case_name(scale_program.BATCHES[-1])


TARGETS = (
    Target(f"full check, {MANUAL} Case1, in process", "2.2 s", 0.66,
           full_check_in_process(MANUAL, "Case1")),
    Target(f"full check, {AUTO} Case1, in process", "4.3 s", 1.3,
           full_check_in_process(AUTO, "Case1")),
    Target(f"pto-check {MANUAL} --all-cases", "12.5 s", 3.0,
           whole_process("pto-check", MANUAL, "--all-cases")),
    Target(f"pto-check {MANUAL} --suggest-deps (all cases)", "9-23 s", 4.0,
           whole_process("pto-check", MANUAL, "--suggest-deps")),
    Target(f"pto-graph {MANUAL} --case Case1 -o x.json (deps.json)", "8.9 s", 3.0,
           whole_process("pto-graph", MANUAL, "--case", "Case1", "-o", "{tmp}/x.json")),
    Target(f"pto-graph {MANUAL} --case Case1 -o x.svg (summary)", "3.8 s", 1.5,
           whole_process("pto-graph", MANUAL, "--case", "Case1", "-o", "{tmp}/x.svg")),
    Target(f"pto-run {MANUAL} --case Case1 --no-numerics", "3.3 s", 1.5,
           whole_process("pto-run", MANUAL, "--case", "Case1", "--no-numerics")),
    Target(f"pto-check bench/programs/scale.pto --case {scale_case()} (1,052,672 tasks)",
           "-", 15.0, whole_process("pto-check", "bench/programs/scale.pto", "--case",
                                    scale_case()), big=True),
)


def scaling(repeat: int, big_repeat: int) -> list[list[str]]:
    """The full check in process (instantiate + graph checks) of each scaling case."""
    path = scale_program.write()
    name = str(path.relative_to(ROOT))
    checked = front_end(read_source(path, name))
    rows = [["B", "tasks", "instantiate s", "graph checks s", "µs per task",
             "CPU µs per task"]]
    for batch in scale_program.BATCHES:
        inst, checks, cpu, tasks = [], [], [], 0
        for _ in range(big_repeat if batch == scale_program.BATCHES[-1] else repeat):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            graph = instantiate_case(checked, scale_program.case_name(batch))
            middle = time.perf_counter()
            check_graph(checked, graph)
            inst.append(middle - start)
            checks.append(time.perf_counter() - middle)
            cpu.append(time.process_time() - start_cpu)
            tasks = len(graph)
            del graph
        i, c = statistics.median(inst), statistics.median(checks)
        rows.append([str(batch), f"{tasks:,}", f"{i:.2f}", f"{c:.2f}",
                     f"{(i + c) * 1e6 / tasks:.1f}",
                     f"{statistics.median(cpu) * 1e6 / tasks:.1f}"])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true",
                   help="3 runs per row and 1 of the 1M-task program (default: 5 and 3)")
    p.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = p.parse_args(argv)
    repeat, big = (3, 1) if args.quick else (5, 3)
    scale_program.write()
    print(f"# {machine()}")
    print(f"# median (min) of {repeat} runs, {big} of the 1M-task program; whole processes "
          "unless in process; the targets are on wall time (CPU time is the steadier "
          "figure on a shared machine)\n", flush=True)
    rows = [["measure", "before", "now: wall median (min)", "CPU median", "target",
             "result"]]
    missed = 0
    for target in TARGETS:
        result = target.run(big if target.big else repeat)
        ok = target.verdict(result)
        missed += not ok
        rows.append([target.measure, target.before, result.cell(), result.cpu_cell(),
                     target.target(),
                     "MET" if ok else "MISSED"])
        print(f"  {target.measure}: {result.cell()}", file=sys.stderr, flush=True)
    print(table(rows, args.markdown))
    if not args.no_scaling:
        print(f"\nscaling of the full check in process ({scale_program.PROGRAM.name}, "
              f"Case1's shapes with B sequences; median of {repeat} runs, {big} of B"
              f"{scale_program.BATCHES[-1]}):")
        print(table(scaling(repeat, big), args.markdown))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
