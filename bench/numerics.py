"""Benchmark of pto-run with numerics on paged attention's cases: whole processes, their
wall and CPU time, peak resident memory and the golden's verdict.

Run from the repository root with `python bench/numerics.py` (see docs/performance.md).
Each row is `pto-run examples/paged_attention/manual.pto --case NAME` run as a separate
process after a warm-up; times are the median (and minimum) over the runs, memory the
largest peak RSS the kernel reports for any of them. Targets: Case1 under 20 s (wall,
median) and under 2 GiB.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wholeproc import machine, measure, table

PROGRAM = "examples/paged_attention/manual.pto"
TARGETS = {"Case1": (20.0, 2048.0)}  # case: (wall s, peak MiB)
VERDICT = re.compile(r"(PASS|FAIL) out: max abs error \S+")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=3, help="runs per case (default: 3)")
    p.add_argument("--case", action="append", help="a case to run (repeatable; default: "
                   "CaseSmall1, CaseSmall2, Case1)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    print(f"# {machine()}")
    exe = shutil.which("pto-run", path=str(Path(sys.executable).parent)) or "pto-run"
    rows = [("pto-run manual.pto --case", "wall s median (min)", "CPU s median",
             "peak RSS MiB", "target", "golden")]
    failed = False
    for case in args.case or ["CaseSmall1", "CaseSmall2", "Case1"]:
        figures = measure([exe, PROGRAM, "--case", case], args.repeat,
                          warmup=0 if case in TARGETS else 1)
        verdicts = set()
        for sample in figures.samples:
            found = VERDICT.search(sample.output)
            verdicts.add(found[0] if found else f"no verdict (exit {sample.exit})")
        failed |= any(not v.startswith("PASS") for v in verdicts)
        target = ""
        if case in TARGETS:
            limit_s, limit_mib = TARGETS[case]
            ok = figures.wall_median < limit_s and figures.peak_mib < limit_mib
            failed |= not ok
            target = f"< {limit_s:g} s, < {limit_mib:g} MiB: {'met' if ok else 'MISSED'}"
        rows.append((case, f"{figures.wall_median:.2f} ({figures.wall_min:.2f})",
                     f"{figures.cpu_median:.2f}", f"{figures.peak_mib:.0f}", target,
                     "; ".join(sorted(verdicts))))
    print(table(rows, args.markdown))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
