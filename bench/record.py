"""Benchmark of the C++ front end: checking a case of a program as the C++ pto-compile
writes for it (run the recorder, replay its trace, the graph checks) against checking the
.pto itself (instantiate, the graph checks), excluding the one-time g++ build; median and
minimum over repeats, against the 2x target (docs/performance.md).

    python bench/record.py [--repeat N] [--dialect D] [FILE [CASE]]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pto_dsl import record
from pto_dsl.codegen.cpp import generate
from pto_dsl.dialects import DIALECTS
from pto_dsl.pipeline import Checked, case_values, check_graph, front_end, instantiate_case
from pto_dsl.pipeline import read_source as read

ROOT = Path(__file__).resolve().parent.parent


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/record.py", description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", type=Path,
                   default=ROOT / "examples" / "paged_attention" / "manual.pto")
    p.add_argument("case", nargs="?", default="Case1")
    p.add_argument("--dialect", default="current", choices=sorted(DIALECTS))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    checked = front_end(read(args.file), DIALECTS[args.dialect])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("XDG_CACHE_HOME", tmp)
        cpp = Path(tmp) / f"{args.file.stem}.cpp"
        cpp.write_text(generate(checked.program, args.dialect, checked.source.name))
        start = time.perf_counter()
        prepared = record.prepare(cpp, read(cpp), checked.dialect)
        build = time.perf_counter() - start

        def from_pto() -> None:
            check_graph(checked, instantiate_case(checked, args.case))

        def from_cpp() -> None:
            rec = record.record(prepared, checked.program, case_values(checked, args.case))
            check_graph(Checked(prepared.source, rec.program, checked.dialect), rec.graph)

        pto = timed(from_pto, args.repeat)
        cxx = timed(from_cpp, args.repeat)
    tasks = len(instantiate_case(checked, args.case))
    ratio = cxx[0] / pto[0]
    print(f"{args.file.name} case {args.case} ({tasks:,} tasks), dialect {args.dialect}")
    print(f"  g++ build (once, cached)        {build:7.2f} s")
    print(f"  check the .pto                  {pto[0]:7.2f} s (min {pto[1]:.2f})")
    print(f"  record the C++ and check it     {cxx[0]:7.2f} s (min {cxx[1]:.2f})")
    print(f"  ratio {ratio:.2f}: the 2x target is {'met' if ratio <= 2 else 'missed'}")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
