"""Benchmark of the front end on generated large inputs: that it stays linear.

Each input is generated at two sizes; the run reports the seconds and peak memory of a whole
`pto-check` process per input and the ratio of times (about the ratio of sizes when linear,
its square when quadratic), and fails when a time bound is exceeded:

* kernels: N kernel declarations (func_id clash check),
* undefined: N uses of undefined names (the "did you mean" hint, E101 per use; the text
  output shows the first 50 and a count),
* lets: a file of `let` bindings of about --megabytes MB, which must check in --bound-s.

    python bench/front_end.py [--megabytes 10] [--bound-s 30] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

KERNEL = "kernel K{i} mix (aic {i}, aiv0 {j}, aiv1 {k}) (inout x: f32[4], in y: f32[4], s: i32)"
TAIL = "entry e(inout buf: f32[4]) {{\n{body}\n    K0(buf, buf, 1)\n}}\ncase c {{ }}\n"


def kernels(n: int) -> str:
    decls = "\n".join(KERNEL.format(i=i, j=i + n, k=i + 2 * n) for i in range(n))
    return decls + "\n" + TAIL.format(body="")


def undefined(n: int) -> str:
    body = "\n".join(f"    let a{i} = undefined_name_{i} + 1" for i in range(n))
    return KERNEL.format(i=0, j=1, k=2) + "\n" + TAIL.format(body=body)


def lets(n: int) -> str:
    body = "\n".join(f"    let value_{i} = {i} * 3 + value_{i - 1}" if i else "    let value_0 = 1"
                     for i in range(n))
    return KERNEL.format(i=0, j=1, k=2) + "\n" + TAIL.format(body=body)


def run(path: Path) -> tuple[float, float, int, str]:
    """Seconds, peak MB of the child, exit code and the last line of stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "import sys; from pto_dsl.cli import "
                           "check_main; sys.exit(check_main(sys.argv[1:]))", str(path), "-q"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    last = (done.stderr.strip().splitlines() or [""])[-1]
    if "Traceback" in done.stderr or done.returncode not in (0, 1):
        raise SystemExit(f"{path}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return seconds, peak, done.returncode, last


def measure(where: Path, name: str, make: Callable[[int], str], sizes: tuple[int, int],
            bound_s: float | None) -> bool:
    times = []
    for n in sizes:
        path = where / f"{name}_{n}.pto"
        path.write_text(make(n), encoding="utf-8")
        seconds, peak, code, last = run(path)
        times.append(seconds)
        mb = path.stat().st_size / 1e6
        print(f"{name:9} n={n:7}  {mb:6.2f} MB  {seconds:6.2f} s  peak {peak:6.0f} MB  "
              f"exit {code}  {last[:70]}")
    ratio = times[1] / max(times[0], 1e-9)
    print(f"{name:9} time ratio {ratio:.1f} for a size ratio {sizes[1] / sizes[0]:.0f}")
    if bound_s is not None and times[1] > bound_s:
        print(f"{name:9} FAILED: {times[1]:.1f} s > {bound_s} s")
        return False
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--megabytes", type=float, default=10.0)
    p.add_argument("--bound-s", type=float, default=30.0)
    p.add_argument("--keep", type=Path, help="write the inputs here (default: a temp dir)")
    args = p.parse_args()
    let_lines = int(args.megabytes * 1e6 / 42)  # about 42 bytes per let line
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        ok = measure(where, "kernels", kernels, (500, 2000), 30.0)
        ok &= measure(where, "undefined", undefined, (2500, 10000), 30.0)
        ok &= measure(where, "lets", lets, (let_lines // 8, let_lines), args.bound_s)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
