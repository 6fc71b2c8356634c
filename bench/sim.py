"""Benchmark of pto-run's simulator: wall and CPU time of whole runs (front end, lowering,
runtime model, timing, numerics and golden), and the peak memory of large runs.

Run from the repository root with `python bench/sim.py` (see docs/performance.md). Prints
one row per run with the median and minimum wall time over repeated runs, the CPU time of
the fastest, and the performance targets of the simulator (docs/performance.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pto_dsl
from pto_dsl.pipeline import front_end, read_source
from pto_dsl.sim.run import SimOptions, SimResult, simulate

ROOT = Path(__file__).resolve().parent.parent
PA = ROOT / "examples" / "paged_attention"


@dataclass(frozen=True)
class Run:
    file: str
    case: str
    numerics: bool
    target_s: float | None = None  # the performance target for this run, if any


RUNS = (
    Run("manual.pto", "Case1", False, 5.0),
    Run("auto.pto", "Case1", False),
    Run("manual.pto", "Case2", False),
    Run("manual.pto", "CaseSmall2", True, 2.0),
    Run("auto.pto", "CaseVarSeq4", True),
    Run("unroll_manual.pto", "Small", True),
    Run("unroll_auto.pto", "Case1", False),
)


def one(run: Run, record_schedule: bool = True) -> tuple[float, float, SimResult]:
    """Everything pto-run does for a run: read, front end, simulate (wall s, CPU s)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    checked = front_end(read_source(PA / run.file))
    result = simulate(checked, run.case, SimOptions(numerics=run.numerics,
                                                    record_schedule=record_schedule))
    return time.perf_counter() - wall, time.process_time() - cpu, result


def peak_mib(run: Run) -> tuple[float, int]:
    """Peak traced memory of a run without the schedule record (the model itself), and
    its task count."""
    gc.collect()
    tracemalloc.start()
    _, _, result = one(run, record_schedule=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, result.runtime.seq


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="runs per row (default: 3)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory rows")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = p.parse_args(argv)
    print(f"# {platform.node()} {platform.python_version()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.2f}, pto_dsl at {Path(pto_dsl.__file__).parent}")
    rows = [("file", "case", "numerics", "tasks", "wall s median (min)", "CPU s", "target",
             "result")]
    failed = False
    for run in RUNS:
        samples: list[tuple[float, float]] = []
        result = None
        for _ in range(args.repeat):
            result = None
            wall, cpu, result = one(run)
            samples.append((wall, cpu))
        assert result is not None
        walls = [w for w, _ in samples]
        best = min(walls)
        ok = run.target_s is None or best < run.target_s
        failed |= not ok or not result.passed
        verdict = ("PASS" if result.passed else "FAIL") if result.checks else "-"
        rows.append((run.file, run.case, "on" if run.numerics else "off",
                     f"{result.runtime.seq:,}",
                     f"{statistics.median(walls):.2f} ({best:.2f})",
                     f"{min(c for _, c in samples):.2f}",
                     f"< {run.target_s:g} s {'met' if ok else 'MISSED'}" if run.target_s
                     else "", verdict))
    _table(rows, args.markdown)
    if not args.no_memory:
        print()
        mem = [("file", "case", "tasks", "peak traced MiB (no schedule record)")]
        for run in (Run("manual.pto", "Case2", False), Run("manual.pto", "Case1", False)):
            peak, tasks = peak_mib(run)
            mem.append((run.file, run.case, f"{tasks:,}", f"{peak:.1f}"))
        _table(mem, args.markdown)
    return 1 if failed else 0


def _table(rows: Sequence[tuple[str, ...]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(rows[0]) + " |")
        print("|" + "---|" * len(rows[0]))
        for r in rows[1:]:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
