"""Timing whole processes for the bench scripts: wall time, CPU time and peak resident
memory of one run of a command, as the kernel accounts for it (os.wait4)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sample:
    wall: float  # s
    cpu: float  # s, user + system
    peak_mib: float
    exit: int
    output: str


def run_once(cmd: Sequence[str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with proc.stdout:
        output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                  proc.returncode, output)


@dataclass(frozen=True)
class Figures:
    wall_median: float
    wall_min: float
    cpu_median: float
    peak_mib: float  # the largest of the runs
    samples: tuple[Sample, ...]


def measure(cmd: Sequence[str], repeat: int, warmup: int = 1) -> Figures:
    for _ in range(warmup):
        run_once(cmd)
    samples = tuple(run_once(cmd) for _ in range(repeat))
    walls = [s.wall for s in samples]
    return Figures(statistics.median(walls), min(walls),
                   statistics.median(s.cpu for s in samples),
                   max(s.peak_mib for s in samples), samples)


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return (f"{os.cpu_count()} CPUs ({model}), python {platform.python_version()}, load "
            f"average {os.getloadavg()[0]:.2f}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {runtime_model()}")


def runtime_model() -> str:
    """Whether the simulator's runtime model runs compiled (a regular install, setup.py)
    or as Python (an editable install): pto-run's times depend on it."""
    from pto_dsl.sim import runtime

    kind = "Python" if runtime.__file__.endswith(".py") else "compiled with mypyc"
    return f"runtime model {kind} ({Path(runtime.__file__).parent.parent.parent})"


def table(rows: Sequence[Sequence[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
