"""Benchmark of pto-compile: the time to compile each example in each dialect, as
`pto-compile FILE --dialect D` does it in-process (read, front end and structural checks,
the default case's graph checks, C++ generation), median and minimum over repeats, against
the 100 ms target (docs/performance.md).

    python bench/compile.py [--repeat N] [--target-ms T] [FILE ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pto_dsl.codegen.cpp import CPP_DIALECTS, generate
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import check_graph, front_end, instantiate_case, read_source

ROOT = Path(__file__).resolve().parent.parent


def compile_once(path: Path, dialect: str) -> tuple[float, float]:
    """Seconds for the checks and for the generation of one compile."""
    start = time.perf_counter()
    checked = front_end(read_source(path), DIALECTS[dialect])
    if checked.program.cases:
        check_graph(checked, instantiate_case(checked, None))
    checked_at = time.perf_counter()
    generate(checked.program, dialect, checked.source.name)
    return checked_at - start, time.perf_counter() - checked_at


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/compile.py", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", type=Path, help="programs (default: every example)")
    p.add_argument("--repeat", type=int, default=15, help="runs per file and dialect")
    p.add_argument("--target-ms", type=float, default=100.0)
    args = p.parse_args(argv)
    files = args.files or sorted((ROOT / "examples").rglob("*.pto"))
    print(f"{'program':<34} {'dialect':<8} {'median ms':>9} {'min ms':>8} "
          f"{'checks':>7} {'codegen':>7}  target")
    worst = 0.0
    for path in files:
        for dialect in sorted(CPP_DIALECTS):
            compile_once(path, dialect)  # warm: the parser tables and templates load once
            runs = [compile_once(path, dialect) for _ in range(args.repeat)]
            totals = [a + b for a, b in runs]
            median = statistics.median(totals) * 1e3
            worst = max(worst, median)
            name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            print(f"{name.removeprefix('examples/'):<34} {dialect:<8} {median:9.1f} "
                  f"{min(totals) * 1e3:8.1f} {statistics.median(a for a, _ in runs) * 1e3:7.1f} "
                  f"{statistics.median(b for _, b in runs) * 1e3:7.1f}  "
                  f"{'met' if median < args.target_ms else 'MISSED'}")
    met = worst < args.target_ms
    print(f"slowest median {worst:.1f} ms: the {args.target_ms:.0f} ms target is "
          f"{'met' if met else 'missed'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
