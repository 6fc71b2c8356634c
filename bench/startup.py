"""Benchmark of start-up: whole `pto-*` processes for --version, --help and small runs,
wall and CPU time, median of 7 runs after a warm-up.

Run from the repository root with `python bench/startup.py` (see docs/performance.md).
The tools are measured as `pip install .` leaves them, with pto_dsl's bytecode compiled:
pip compiles it on install, but an editable install under PYTHONDONTWRITEBYTECODE (set in
some CI and container images) would recompile every module on every start, so the bench
compiles the package first.
Targets: --version and --help under 0.1 s, a small pto-check under 0.25 s, pto-run of
manual.pto's CaseSmall2 under 0.35 s (wall, median). The machine's load is printed first:
on a busy machine wall time exceeds CPU time, which is then the steadier figure.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wholeproc import machine, measure, table

PA = "examples/paged_attention/manual.pto"
RUNS: tuple[tuple[str, tuple[str, ...], float | None], ...] = (
    ("pto-check", ("--version",), 0.1),
    ("pto-check", ("--help",), 0.1),
    ("pto-run", ("--version",), 0.1),
    ("pto-run", ("--help",), 0.1),
    ("pto-graph", ("--version",), 0.1),
    ("pto-compile", ("--version",), 0.1),
    ("pto-check", ("examples/teaching/chain.pto",), 0.25),
    ("pto-check", (PA,), 0.25),
    ("pto-run", (PA, "--case", "CaseSmall2"), 0.35),
)


def compile_package() -> None:
    """Write pto_dsl's bytecode next to its sources, as pip does when it installs a package,
    using the interpreter the tools run on (the bench's own)."""
    import pto_dsl

    package = Path(pto_dsl.__file__).resolve().parent
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"could not compile the bytecode of {package}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=7, help="runs per command (default: 7)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    compile_package()
    print(f"# {machine()}")
    python = Path(sys.executable)
    rows = [("command", "wall s median (min)", "CPU s median", "target (wall)")]
    missed = 0
    for tool, tool_args, target in RUNS:
        exe = shutil.which(tool, path=str(python.parent)) or shutil.which(tool) or tool
        figures = measure([exe, *tool_args], args.repeat)
        if any(s.exit != 0 for s in figures.samples):
            print(f"{tool} {' '.join(tool_args)} failed:\n{figures.samples[0].output}")
            return 1
        verdict = ""
        if target is not None:
            ok = figures.wall_median < target
            missed += not ok
            verdict = f"< {target:g} s {'met' if ok else 'MISSED'}"
        rows.append((f"{tool} {' '.join(tool_args)}",
                     f"{figures.wall_median:.3f} ({figures.wall_min:.3f})",
                     f"{figures.cpu_median:.3f}", verdict))
    print(table(rows, args.markdown))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
