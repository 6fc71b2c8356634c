"""Benchmark of pto-run with numerics on paged attention's cases: whole processes, their
wall and CPU time, peak resident memory and the golden's verdict.

Run from the repository root with `python bench/numerics.py` (see docs/performance.md).
Each row is `pto-run examples/paged_attention/manual.pto --case NAME` run as a separate
process; times are the median (and minimum) over the runs, memory is the largest peak RSS
the kernel reports for any run (os.wait4). Targets: Case1 under 20 s and under 2 GiB.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = "examples/paged_attention/manual.pto"
TARGETS = {"Case1": (20.0, 2048.0)}  # case: (wall s, peak MiB)


def run_once(case: str) -> tuple[float, float, float, str]:
    """One whole pto-run process: (wall s, CPU s, peak RSS MiB, its verdict line)."""
    exe = shutil.which("pto-run") or "pto-run"
    start = time.perf_counter()
    proc = subprocess.Popen([exe, PROGRAM, "--case", case], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    verdict = re.search(r"(PASS|FAIL) out: max abs error \S+", out)
    line = verdict.group(0) if verdict else f"no verdict (exit {proc.returncode}): {out[-200:]}"
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, line


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=3, help="runs per case (default: 3)")
    p.add_argument("--case", action="append", help="cases to run (default: CaseSmall1, "
                   "CaseSmall2, Case1)")
    args = p.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# pto-run {PROGRAM} --case NAME, {args.repeat} runs each")
    rows = [("case", "wall s median (min)", "CPU s median", "peak RSS MiB", "target",
             "golden")]
    failed = False
    for case in args.case or ["CaseSmall1", "CaseSmall2", "Case1"]:
        runs = [run_once(case) for _ in range(args.repeat)]
        walls = [r[0] for r in runs]
        cpu = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        verdicts = {r[3] for r in runs}
        wall = statistics.median(walls)
        target = ""
        if case in TARGETS:
            limit_s, limit_mib = TARGETS[case]
            ok = wall < limit_s and peak < limit_mib
            failed |= not ok
            target = f"< {limit_s:g} s, < {limit_mib:g} MiB: {'met' if ok else 'MISSED'}"
        failed |= any(not v.startswith("PASS") for v in verdicts)
        rows.append((case, f"{wall:.2f} ({min(walls):.2f})", f"{cpu:.2f}", f"{peak:.0f}",
                     target, "; ".join(sorted(verdicts))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
